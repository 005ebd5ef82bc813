package tokenizer_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// A GGUF vocabulary made from each fixture tokenizer encodes every reference
// text (the shared fixtures' and the extra edge cases) to the same ids as the
// tokenizer.json path, and decodes them back: "llama" through score-ordered
// SentencePiece merging, "gpt2" through merges and the qwen2 split regex.
func TestGGUFVocabMatchesTokenizerJSON(t *testing.T) {
	for _, fam := range families {
		t.Run(fam, func(t *testing.T) {
			f := getFixture(t, fam)
			v, err := tokenizer.GGUFVocabFromJSON(f.tokenizerJSON, f.configJSON)
			require.NoError(t, err)
			want := map[string]string{spm: tokenizer.GGUFModelLlama, byteLevel: tokenizer.GGUFModelGPT2}[fam]
			require.Equal(t, want, v.Model)
			if fam == byteLevel {
				require.Equal(t, "qwen2", v.Pre)
			}
			gg, err := tokenizer.NewFromGGUF(v)
			require.NoError(t, err)
			ref := load(t, fam)
			require.Equal(t, ref.VocabSize(), gg.VocabSize())
			for _, pair := range [][2]func() (int, bool){{ref.BOS, gg.BOS}, {ref.EOS, gg.EOS}} {
				a, aok := pair[0]()
				b, bok := pair[1]()
				require.Equal(t, []any{a, aok}, []any{b, bok})
			}
			encs := append([]encoding(nil), f.encodings...)
			raw, err := os.ReadFile(filepath.Join("testdata", fam+".extra.json"))
			require.NoError(t, err)
			var extra []encoding
			require.NoError(t, json.Unmarshal(raw, &extra))
			for _, e := range append(encs, extra...) {
				assert.Equal(t, e.IDs, gg.Encode(e.Text, false), "ids of %q", e.Text)
				assert.Equal(t, e.IDsWithSpecial, gg.Encode(e.Text, true), "ids_with_special of %q", e.Text)
				assert.Equal(t, e.Decoded, gg.Decode(e.IDs, false), "decoded %q", e.Text)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// synthetic is a tiny "llama" vocabulary: ids 0-2 special, 3-5 characters,
// 6 "▁a", 7 "ab", 8 a user-defined token, 9.. the 256 byte tokens.
func synthetic(scoreA, scoreAB float32) tokenizer.GGUFVocab {
	v := tokenizer.GGUFVocab{Model: tokenizer.GGUFModelLlama, BOS: 1, EOS: 2, UNK: 0, PAD: -1,
		Tokens:    []string{"<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "ab", "<tool>"},
		Scores:    []float32{0, 0, 0, -100, -100, -100, scoreA, scoreAB, 0},
		TokenType: []int32{2, 3, 3, 1, 1, 1, 1, 1, 4}}
	for b := range 256 {
		v.Tokens = append(v.Tokens, fmt.Sprintf("<0x%02X>", b))
		v.Scores = append(v.Scores, 0)
		v.TokenType = append(v.TokenType, tokenizer.TokenByte)
	}
	return v
}

func TestGGUFLlamaMergesByScore(t *testing.T) {
	for _, c := range []struct {
		scoreA, scoreAB float32
		want            []int
	}{{-1, -2, []int{1, 6, 5}}, {-2, -1, []int{1, 3, 7}}} {
		tk, err := tokenizer.NewFromGGUF(synthetic(c.scoreA, c.scoreAB))
		require.NoError(t, err)
		assert.Equal(t, c.want, tk.Encode("ab", true), "scores ▁a %v, ab %v", c.scoreA, c.scoreAB)
	}
	tk, err := tokenizer.NewFromGGUF(synthetic(-1, -2))
	require.NoError(t, err)
	// A user-defined token is matched in the text (and is not special);
	// the text after it gets its own ▁ prefix (as in llama.cpp and the HF
	// Prepend normalizer); "é" is no token: its UTF-8 bytes fall back to
	// byte tokens.
	ids := []int{6, 8, 3, 3, 9 + 0xC3, 9 + 0xA9}
	assert.Equal(t, ids, tk.Encode("a<tool> é", false))
	assert.Equal(t, "a<tool>  é", tk.Decode(ids, true))
	assert.False(t, tk.IsSpecial(8))
	assert.True(t, tk.IsSpecial(1))

	v := synthetic(-1, -2)
	v.AddBOS, v.AddEOS = ptr(false), ptr(true)
	tk, err = tokenizer.NewFromGGUF(v)
	require.NoError(t, err)
	assert.Equal(t, []int{6, 2}, tk.Encode("a", true), "add_bos_token false, add_eos_token true")
	v.AddSpacePrefix = ptr(false)
	tk, err = tokenizer.NewFromGGUF(v)
	require.NoError(t, err)
	assert.Equal(t, []int{7}, tk.Encode("ab", false), "no ▁ prepended")
}

func TestGGUFVocabErrors(t *testing.T) {
	gpt2 := tokenizer.GGUFVocab{Model: tokenizer.GGUFModelGPT2, Tokens: []string{"a", "b", "ab"}, Merges: []string{"a b"}, BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	for name, c := range map[string]struct {
		edit func(v *tokenizer.GGUFVocab)
		want string
		is   error
	}{
		"model":       {func(v *tokenizer.GGUFVocab) { v.Model = "bert" }, `tokenizer.ggml.model "bert"`, tokenizer.ErrUnsupported},
		"rwkv":        {func(v *tokenizer.GGUFVocab) { v.Model = "rwkv" }, `"rwkv" (supported: llama, gpt2)`, tokenizer.ErrUnsupported},
		"pre":         {func(v *tokenizer.GGUFVocab) { v.Pre = "deepseek-coder" }, `tokenizer.ggml.pre "deepseek-coder"`, tokenizer.ErrUnsupported},
		"no merges":   {func(v *tokenizer.GGUFVocab) { v.Merges = nil }, "tokenizer.ggml.merges", nil},
		"bad merge":   {func(v *tokenizer.GGUFVocab) { v.Merges = []string{"ab"} }, `tokenizer.ggml.merges[0] "ab"`, nil},
		"no scores":   {func(v *tokenizer.GGUFVocab) { v.Model = tokenizer.GGUFModelLlama }, "tokenizer.ggml.scores has 0 entries for 3 tokens", nil},
		"types":       {func(v *tokenizer.GGUFVocab) { v.TokenType = []int32{1} }, "token_type has 1 entries for 3 tokens", nil},
		"eos":         {func(v *tokenizer.GGUFVocab) { v.EOS = 3 }, "tokenizer.ggml.eos_token_id 3 outside the 3 tokens", nil},
		"no tokens":   {func(v *tokenizer.GGUFVocab) { v.Tokens = nil }, "tokenizer.ggml.tokens", nil},
		"merge vocab": {func(v *tokenizer.GGUFVocab) { v.Merges = []string{"a c"} }, "missing from the vocab", nil},
	} {
		t.Run(name, func(t *testing.T) {
			v := gpt2
			c.edit(&v)
			_, err := tokenizer.NewFromGGUF(v)
			require.ErrorContains(t, err, c.want)
			if c.is != nil {
				require.ErrorIs(t, err, c.is)
			}
		})
	}
	_, err := tokenizer.NewFromGGUF(gpt2)
	require.NoError(t, err)
}

// llama-bpe (Llama 3) takes llama.cpp's defaults: BOS added unless the file
// says otherwise, and a word in the vocabulary is one token even without a
// merge path to it.
func TestGGUFLlamaBPE(t *testing.T) {
	// "ab" is in the vocabulary but no merge makes it; "a b" → "a","b" else.
	v := tokenizer.GGUFVocab{Model: tokenizer.GGUFModelGPT2, Pre: "llama-bpe", Tokens: []string{"a", "b", "c", "bc", "ab", "<|begin_of_text|>"},
		TokenType: []int32{1, 1, 1, 1, 1, 3}, Merges: []string{"b c"}, BOS: 5, EOS: -1, UNK: -1, PAD: -1}
	tk, err := tokenizer.NewFromGGUF(v)
	require.NoError(t, err)
	assert.Equal(t, []int{5, 4}, tk.Encode("ab", true))
	v.Pre, v.AddBOS = "default", nil
	tk, err = tokenizer.NewFromGGUF(v)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1}, tk.Encode("ab", true), "gpt2 default: merges only, no BOS")
	v.AddBOS = ptr(true)
	tk, err = tokenizer.NewFromGGUF(v)
	require.NoError(t, err)
	assert.Equal(t, []int{5, 0, 3}, tk.Encode("abc", true))
}

// Trailing unused tokens (a converter's [PADn] padding up to the embedding
// rows) are not part of the vocabulary size, so they are never sampled.
func TestGGUFPaddedVocabulary(t *testing.T) {
	v := synthetic(-1, -2)
	n := len(v.Tokens)
	for i := range 5 {
		v.Tokens = append(v.Tokens, fmt.Sprintf("[PAD%d]", n+i))
		v.Scores = append(v.Scores, -1000)
		v.TokenType = append(v.TokenType, tokenizer.TokenUnused)
	}
	tk, err := tokenizer.NewFromGGUF(v)
	require.NoError(t, err)
	assert.Equal(t, n, tk.VocabSize())
}
