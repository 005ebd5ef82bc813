package tokenizer_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// Every reference encoding of both families is reproduced exactly.
func TestEncodingsFixture(t *testing.T) {
	for _, fam := range families {
		tk := load(t, fam)
		for _, e := range getFixture(t, fam).encodings {
			t.Run(fam+"/"+e.Text, func(t *testing.T) {
				assert.Equal(t, e.IDs, tk.Encode(e.Text, false), "ids")
				assert.Equal(t, e.IDsWithSpecial, tk.Encode(e.Text, true), "ids_with_special")
				assert.Equal(t, e.Decoded, tk.Decode(e.IDs, false), "decoded")
				assert.Equal(t, e.Decoded, tk.Decode(e.IDsWithSpecial, true), "decoded, special skipped")
			})
		}
	}
}

// Text spelling an added token is encoded as that token, longest first,
// whatever surrounds it.
func TestAddedTokenSplitting(t *testing.T) {
	tests := []struct {
		fam  string
		text string
		want []string // tokens
	}{
		{spm, "<s>", []string{"<s>"}},
		// The legacy SPM normalizer prepends ▁ to every text section, so a
		// section after an added token decodes with a space (as in HF).
		{spm, "<s>Hello", []string{"<s>", "▁Hello"}},
		{spm, "Hello</s>", []string{"▁Hello", "</s>"}},
		{spm, "a<s>b", []string{"▁a", "<s>", "▁b"}},
		{spm, "<s", []string{"▁<", "s"}},
		{byteLevel, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
			[]string{"<|im_start|>", "user", "Ċ", "Hi", "<|im_end|>", "Ċ", "<|im_start|>", "assistant", "Ċ"}},
		{byteLevel, "<|endoftext|><|endoftext|>", []string{"<|endoftext|>", "<|endoftext|>"}},
		{byteLevel, "x<think>y</think>", []string{"x", "<think>", "y", "</think>"}},
		{byteLevel, "<tool_call><tool_response>", []string{"<tool_call>", "<tool_response>"}},
		{byteLevel, "<|im_start", []string{"<", "|", "im", "_start"}},
	}
	for _, tc := range tests {
		t.Run(tc.fam+"/"+tc.text, func(t *testing.T) {
			tk := load(t, tc.fam)
			var got []string
			for _, id := range tk.Encode(tc.text, false) {
				s, ok := tk.Token(id)
				require.True(t, ok)
				got = append(got, s)
			}
			assert.Equal(t, tc.want, got)
			text := strings.Join(got, "")
			if tc.fam == spm {
				text = strings.TrimPrefix(strings.ReplaceAll(text, "▁", " "), " ")
			} else {
				text = tc.text
			}
			assert.Equal(t, text, tk.Decode(tk.Encode(tc.text, false), false))
		})
	}
}

func TestSpecialTokenInfo(t *testing.T) {
	tests := []struct {
		fam       string
		vocab     int
		bos       int
		hasBOS    bool
		eos       int
		special   []string
		notSpecal []string
	}{
		{spm, 32000, 1, true, 2, []string{"<s>", "</s>", "<unk>"}, []string{"▁Hello", "<0x41>"}},
		{byteLevel, 151669, 0, false, 151645, []string{"<|im_start|>", "<|im_end|>", "<|endoftext|>"}, []string{"<think>", "Hello"}},
	}
	for _, tc := range tests {
		t.Run(tc.fam, func(t *testing.T) {
			tk := load(t, tc.fam)
			assert.Equal(t, tc.vocab, tk.VocabSize())
			bos, ok := tk.BOS()
			assert.Equal(t, tc.hasBOS, ok)
			if tc.hasBOS {
				assert.Equal(t, tc.bos, bos)
			}
			eos, ok := tk.EOS()
			assert.True(t, ok)
			assert.Equal(t, tc.eos, eos)
			for _, s := range tc.special {
				id, ok := tk.TokenID(s)
				require.True(t, ok, s)
				assert.True(t, tk.IsSpecial(id), s)
			}
			for _, s := range tc.notSpecal {
				id, ok := tk.TokenID(s)
				require.True(t, ok, s)
				assert.False(t, tk.IsSpecial(id), s)
			}
			_, ok = tk.TokenID("no such token ¤")
			assert.False(t, ok)
			assert.Equal(t, "", tk.Decode([]int{-1, tk.VocabSize() + 5}, false), "unknown ids are ignored")
		})
	}
}

// Load reads a model folder; tokenizer_config.json is optional.
func TestLoad(t *testing.T) {
	f := getFixture(t, spm)
	tests := []struct {
		name       string
		withConfig bool
		wantBOS    bool
	}{
		{"with config", true, true},
		{"without config", false, true}, // the template processor still adds <s>
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), f.tokenizerJSON, 0o644))
			if tc.withConfig {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), f.configJSON, 0o644))
			}
			for _, path := range []string{dir, filepath.Join(dir, "tokenizer.json")} {
				tk, err := tokenizer.Load(path)
				require.NoError(t, err)
				e := f.encodings[0]
				assert.Equal(t, e.IDs, tk.Encode(e.Text, false))
				assert.Equal(t, e.IDsWithSpecial, tk.Encode(e.Text, true))
				_, ok := tk.BOS()
				assert.Equal(t, tc.wantBOS, ok)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	f := getFixture(t, spm)
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
		isUnsup bool
	}{
		{"missing tokenizer.json", map[string]string{}, "read tokenizer", false},
		{"corrupt json", map[string]string{"tokenizer.json": "{not json"}, "parse tokenizer.json", false},
		{"corrupt config", map[string]string{"tokenizer.json": string(f.tokenizerJSON), "tokenizer_config.json": "[1"}, "parse tokenizer_config.json", false},
		{"unigram model", map[string]string{"tokenizer.json": `{"model":{"type":"Unigram","vocab":{"a":0}},"decoder":{"type":"Fuse"}}`}, "model type", true},
		{"unknown normalizer", map[string]string{"tokenizer.json": `{"normalizer":{"type":"Precompiled"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"decoder":{"type":"Fuse"}}`}, "normalizer", true},
		{"bad merge", map[string]string{"tokenizer.json": `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]},"decoder":{"type":"Fuse"}}`}, "missing from the vocab", false},
		{"merge without space", map[string]string{"tokenizer.json": `{"model":{"type":"BPE","vocab":{"a":0},"merges":["ab"]},"decoder":{"type":"Fuse"}}`}, "separated by a space", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
			}
			_, err := tokenizer.Load(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Equal(t, tc.isUnsup, errors.Is(err, tokenizer.ErrUnsupported), err.Error())
		})
	}
}

// Extra reference encodings of edge cases (contractions, whitespace runs,
// Unicode spaces, scripts, added tokens in context, empty text), made by the
// same transformers.js implementation as the shared fixtures; see
// testdata/README.md.
func TestEncodingsExtra(t *testing.T) {
	for _, fam := range families {
		tk := load(t, fam)
		raw, err := os.ReadFile(filepath.Join("testdata", fam+".extra.json"))
		require.NoError(t, err)
		var encs []encoding
		require.NoError(t, json.Unmarshal(raw, &encs))
		require.NotEmpty(t, encs)
		for _, e := range encs {
			t.Run(fam+"/"+e.Text, func(t *testing.T) {
				ids := tk.Encode(e.Text, false)
				assert.Equal(t, e.IDs, ids, "ids")
				assert.Equal(t, e.IDsWithSpecial, tk.Encode(e.Text, true), "ids_with_special")
				assert.Equal(t, e.Decoded, tk.Decode(e.IDs, false), "decoded")
				assert.Equal(t, tk.Decode(ids, true), streamDecode(t, tk, ids, true), "stream")
			})
		}
	}
}

// One Tokenizer serves concurrent requests (run with -race to check).
func TestConcurrentUse(t *testing.T) {
	for _, fam := range families {
		tk := load(t, fam)
		encs := getFixture(t, fam).encodings
		done := make(chan struct{})
		for g := 0; g < 4; g++ {
			go func() {
				defer func() { done <- struct{}{} }()
				for _, e := range encs {
					assert.Equal(t, e.IDs, tk.Encode(e.Text, false))
					assert.Equal(t, e.Decoded, tk.Decode(e.IDs, false))
				}
			}()
		}
		for g := 0; g < 4; g++ {
			<-done
		}
	}
}

// Long inputs: a single 64 KB SentencePiece "word" and 64 KB of
// whitespace (the regex lookahead's worst case) encode and round-trip
// (their speed is measured by BenchmarkEncode).
func TestLongInputs(t *testing.T) {
	tests := []struct{ name, text string }{
		{"prose", strings.Repeat("The quick brown fox jumps over the lazy dog. ", 1500)},
		{"no spaces", strings.Repeat("abcdefghij", 6500)},
		{"spaces", strings.Repeat(" ", 65000) + "x"},
		{"newlines and spaces", strings.Repeat(" \n", 32000)},
	}
	for _, fam := range families {
		tk := load(t, fam)
		for _, tc := range tests {
			t.Run(fam+"/"+tc.name, func(t *testing.T) {
				ids := tk.Encode(tc.text, false)
				assert.Equal(t, tc.text, tk.Decode(ids, false))
			})
		}
	}
}
