package tokenizer_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// tiny builds a small tokenizer.json: one id per given token, the given
// merges, plus overrides of top-level / model fields.
func tiny(t *testing.T, tokens []string, merges any, top, model map[string]any) *tokenizer.Tokenizer {
	t.Helper()
	vocab := map[string]int{}
	for i, tok := range tokens {
		vocab[tok] = i
	}
	m := map[string]any{"type": "BPE", "vocab": vocab, "merges": merges}
	for k, v := range model {
		m[k] = v
	}
	f := map[string]any{"model": m, "decoder": map[string]any{"type": "Fuse"}}
	for k, v := range top {
		f[k] = v
	}
	raw, err := json.Marshal(f)
	require.NoError(t, err)
	tk, err := tokenizer.New(raw, nil)
	require.NoError(t, err)
	return tk
}

func tokensOf(t *testing.T, tk *tokenizer.Tokenizer, ids []int) []string {
	t.Helper()
	out := []string{}
	for _, id := range ids {
		s, ok := tk.Token(id)
		require.True(t, ok, id)
		out = append(out, s)
	}
	return out
}

var abc = []string{"a", "b", "c", "ab", "bc", "abc", "aa", "<unk>"}

func TestBPEMerges(t *testing.T) {
	tests := []struct {
		name   string
		merges any
		model  map[string]any
		text   string
		want   []string
	}{
		{"string merges", []string{"a b", "ab c"}, nil, "abc", []string{"abc"}},
		{"pair merges", [][]string{{"a", "b"}, {"ab", "c"}}, nil, "abc", []string{"abc"}},
		{"lower rank first", []string{"b c", "a b"}, nil, "abc", []string{"a", "bc"}},
		{"lower rank first, flipped", []string{"a b", "b c"}, nil, "abc", []string{"ab", "c"}},
		{"leftmost on equal rank", []string{"a a"}, nil, "aaa", []string{"aa", "a"}},
		{"no merges", []string{}, nil, "abc", []string{"a", "b", "c"}},
		{"ignore_merges takes whole-word vocab hits", []string{}, map[string]any{"ignore_merges": true}, "abc", []string{"abc"}},
		{"ignore_merges off", []string{}, map[string]any{"ignore_merges": false}, "abc", []string{"a", "b", "c"}},
		{"unk fused", []string{}, map[string]any{"unk_token": "<unk>", "fuse_unk": true}, "azzb", []string{"a", "<unk>", "b"}},
		{"unk not fused", []string{}, map[string]any{"unk_token": "<unk>"}, "azzb", []string{"a", "<unk>", "<unk>", "b"}},
		{"no unk drops unknown", []string{}, nil, "azb", []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := tiny(t, abc, tc.merges, nil, tc.model)
			assert.Equal(t, tc.want, tokensOf(t, tk, tk.Encode(tc.text, false)))
		})
	}
}

// Added tokens: lstrip/rstrip absorb neighbouring whitespace, single_word
// needs word boundaries, longest match wins, normalized tokens match the
// normalized text.
func TestAddedTokenFlags(t *testing.T) {
	chars := []string{"a", "b", " ", "x", "<", ">", "m"}
	tests := []struct {
		name  string
		added []map[string]any
		norm  any
		text  string
		want  []string
	}{
		{"plain", []map[string]any{{"content": "<m>"}}, nil, "a <m> b", []string{"a", " ", "<m>", " ", "b"}},
		{"lstrip", []map[string]any{{"content": "<m>", "lstrip": true}}, nil, "a  <m> b", []string{"a", "<m>", " ", "b"}},
		{"rstrip", []map[string]any{{"content": "<m>", "rstrip": true}}, nil, "a <m>  b", []string{"a", " ", "<m>", "b"}},
		{"single_word refuses inside a word", []map[string]any{{"content": "<m>", "single_word": true}}, nil, "a<m>", []string{"a", "<", "m", ">"}},
		{"single_word alone", []map[string]any{{"content": "<m>", "single_word": true}}, nil, "a <m> b", []string{"a", " ", "<m>", " ", "b"}},
		{"longest first", []map[string]any{{"content": "<m>"}, {"content": "<m><m>"}}, nil, "<m><m><m>", []string{"<m><m>", "<m>"}},
		{"normalized matches after normalization", []map[string]any{{"content": "xx", "normalized": true}},
			map[string]any{"type": "Lowercase"}, "aXXb", []string{"a", "xx", "b"}},
		{"not normalized matches raw text only", []map[string]any{{"content": "xx", "normalized": false}},
			map[string]any{"type": "Lowercase"}, "aXXbxx", []string{"a", "x", "x", "b", "xx"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var added []map[string]any
			for i, a := range tc.added {
				a["id"] = len(chars) + i
				added = append(added, a)
			}
			top := map[string]any{"added_tokens": added}
			if tc.norm != nil {
				top["normalizer"] = tc.norm
			}
			tk := tiny(t, chars, []string{}, top, nil)
			assert.Equal(t, tc.want, tokensOf(t, tk, tk.Encode(tc.text, false)))
		})
	}
}

// Metaspace pre-tokenizer and decoder (newer Llama-style tokenizer.json).
func TestMetaspace(t *testing.T) {
	tokens := []string{"▁", "h", "i", "▁hi", "<s>", "▁h"}
	top := map[string]any{
		"pre_tokenizer": map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
		"decoder":       map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
		"added_tokens":  []map[string]any{{"id": 4, "content": "<s>", "special": true}},
	}
	tk := tiny(t, tokens, []string{"▁ h", "▁h i"}, top, nil)
	tests := []struct {
		text    string
		want    []string
		decoded string
	}{
		{"hi hi", []string{"▁hi", "▁hi"}, "hi hi"},
		{" hi", []string{"▁hi"}, "hi"}, // the only ▁ is the text's space, dropped on decode as in HF
		{"<s>hi", []string{"<s>", "h", "i"}, "<s>hi"},
	}
	for _, tc := range tests {
		ids := tk.Encode(tc.text, false)
		assert.Equal(t, tc.want, tokensOf(t, tk, ids), tc.text)
		assert.Equal(t, tc.decoded, tk.Decode(ids, false), tc.text)
	}
}

// tokenizer_config.json add_bos_token / add_eos_token override the
// template, as transformers' Llama tokenizer does.
func TestBOSEOSConfig(t *testing.T) {
	f := getFixture(t, spm)
	text := "Hello world"
	base := f.encodings[1]
	require.Equal(t, text, base.Text)
	tests := []struct {
		name   string
		config string
		want   []int
	}{
		{"template only", ``, base.IDsWithSpecial},
		{"add_bos false", `{"add_bos_token": false, "bos_token": "<s>"}`, base.IDs},
		{"add_eos true", `{"add_bos_token": true, "add_eos_token": true, "bos_token": "<s>", "eos_token": {"content": "</s>"}}`, append(append([]int{}, base.IDsWithSpecial...), 2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg []byte
			if tc.config != "" {
				cfg = []byte(tc.config)
			}
			tk, err := tokenizer.New(f.tokenizerJSON, cfg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, tk.Encode(text, true))
			assert.Equal(t, base.IDs, tk.Encode(text, false))
		})
	}
}

func TestPostProcessors(t *testing.T) {
	tokens := []string{"<cls>", "<sep>", "a"}
	added := []map[string]any{{"id": 0, "content": "<cls>", "special": true}, {"id": 1, "content": "<sep>", "special": true}}
	tests := []struct {
		name string
		pp   any
		want []int
	}{
		{"bert", map[string]any{"type": "BertProcessing", "cls": []any{"<cls>", 0}, "sep": []any{"<sep>", 1}}, []int{0, 2, 1}},
		{"sequence of bytelevel and template", map[string]any{"type": "Sequence", "processors": []any{
			map[string]any{"type": "ByteLevel"},
			map[string]any{"type": "TemplateProcessing",
				"single":         []any{map[string]any{"SpecialToken": map[string]any{"id": "<cls>"}}, map[string]any{"Sequence": map[string]any{"id": "A"}}, map[string]any{"SpecialToken": map[string]any{"id": "<sep>"}}},
				"special_tokens": map[string]any{"<cls>": map[string]any{"id": "<cls>", "ids": []int{0}}, "<sep>": map[string]any{"id": "<sep>", "ids": []int{1}}}},
		}}, []int{0, 2, 1}},
		{"none", nil, []int{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := tiny(t, tokens, []string{}, map[string]any{"post_processor": tc.pp, "added_tokens": added}, nil)
			assert.Equal(t, tc.want, tk.Encode("a", true))
			assert.Equal(t, []int{2}, tk.Encode("a", false))
		})
	}
}

func TestUnsupportedDecoders(t *testing.T) {
	tests := []struct {
		name string
		dec  any
	}{
		{"none", nil},
		{"wordpiece", map[string]any{"type": "WordPiece"}},
		{"bytelevel in a sequence", map[string]any{"type": "Sequence", "decoders": []any{map[string]any{"type": "ByteLevel"}, map[string]any{"type": "Fuse"}}}},
		{"strip before fuse", map[string]any{"type": "Sequence", "decoders": []any{map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(map[string]any{"model": map[string]any{"type": "BPE", "vocab": map[string]int{"a": 0}, "merges": []string{}}, "decoder": tc.dec})
			require.NoError(t, err)
			_, err = tokenizer.New(raw, nil)
			require.ErrorIs(t, err, tokenizer.ErrUnsupported)
		})
	}
}

// Added tokens only listed in tokenizer_config.json added_tokens_decoder
// are split out too.
func TestConfigAddedTokens(t *testing.T) {
	raw, err := json.Marshal(map[string]any{
		"model":   map[string]any{"type": "BPE", "vocab": map[string]int{"a": 0, "<": 1, "e": 2, ">": 3}, "merges": []string{}},
		"decoder": map[string]any{"type": "Fuse"},
	})
	require.NoError(t, err)
	cfg := []byte(`{"added_tokens_decoder": {"4": {"content": "<e>", "special": true}}, "eos_token": "<e>"}`)
	tk, err := tokenizer.New(raw, cfg)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 4, 0}, tk.Encode("a<e>a", false))
	assert.True(t, tk.IsSpecial(4))
	eos, ok := tk.EOS()
	assert.True(t, ok)
	assert.Equal(t, 4, eos)
	assert.Equal(t, 5, tk.VocabSize())
	assert.Equal(t, "aa", tk.Decode([]int{0, 4, 0}, true))
}
