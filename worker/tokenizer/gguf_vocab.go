package tokenizer

import (
	"fmt"
	"strings"
)

// Token types of a GGUF vocabulary (tokenizer.ggml.token_type), as llama.cpp
// numbers them.
const (
	TokenNormal      int32 = 1
	TokenUnknown     int32 = 2
	TokenControl     int32 = 3
	TokenUserDefined int32 = 4
	TokenUnused      int32 = 5
	TokenByte        int32 = 6
)

// GGUF tokenizer models this package builds.
const (
	GGUFModelLlama = "llama" // SentencePiece: tokens, scores, byte fallback
	GGUFModelGPT2  = "gpt2"  // byte-level BPE: tokens, merges, tokenizer.ggml.pre
)

// GGUFVocab is the tokenizer.ggml.* metadata of a GGUF file as plain data,
// so this package does not depend on the GGUF reader.
type GGUFVocab struct {
	Model     string    // tokenizer.ggml.model
	Pre       string    // tokenizer.ggml.pre (gpt2); "" = "default"
	Tokens    []string  // tokenizer.ggml.tokens
	Scores    []float32 // tokenizer.ggml.scores (llama; required there)
	TokenType []int32   // tokenizer.ggml.token_type; nil = all normal
	Merges    []string  // tokenizer.ggml.merges ("a b"; gpt2, required there)
	// Special ids; -1 = absent.
	BOS, EOS, UNK, PAD int
	AddBOS, AddEOS     *bool // tokenizer.ggml.add_bos_token / add_eos_token; nil = the model's default
	AddSpacePrefix     *bool // tokenizer.ggml.add_space_prefix (llama); nil = true
}

// preRegex maps tokenizer.ggml.pre to the split regex of its Hugging Face
// tokenizer.json (llama.cpp's llm_tokenizer_bpe uses the same ones).
var preRegex = map[string]string{
	"qwen2":     `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
	"llama-bpe": `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
	"default":   gpt2Pattern,
	"gpt-2":     gpt2Pattern,
}

// NewFromGGUF builds a tokenizer from a GGUF vocabulary. Models other than
// "llama" and "gpt2", and unknown gpt2 pre-tokenizers, are refused by name.
func NewFromGGUF(v GGUFVocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, fmt.Errorf("GGUF vocabulary has no tokens (tokenizer.ggml.tokens)")
	}
	if v.TokenType != nil && len(v.TokenType) != n {
		return nil, fmt.Errorf("tokenizer.ggml.token_type has %d entries for %d tokens", len(v.TokenType), n)
	}
	for name, id := range map[string]int{"bos": v.BOS, "eos": v.EOS, "unknown": v.UNK, "padding": v.PAD} {
		if id < -1 || id >= n {
			return nil, fmt.Errorf("tokenizer.ggml.%s_token_id %d outside the %d tokens", name, id, n)
		}
	}
	f := fileJSON{Model: modelJSON{Type: "BPE", Vocab: make(map[string]int, n)}}
	for id, tok := range v.Tokens {
		if _, dup := f.Model.Vocab[tok]; !dup { // the first of equal texts, as HF vocabularies have no duplicates
			f.Model.Vocab[tok] = id
		}
		switch typ := v.tokenType(id); typ {
		case TokenControl, TokenUserDefined, TokenUnknown:
			f.AddedTokens = append(f.AddedTokens, addedTokenJSON{ID: id, Content: tok, Special: typ != TokenUserDefined})
		}
	}
	if v.UNK >= 0 {
		unk := v.Tokens[v.UNK]
		f.Model.UnkToken = &unk
	}
	addBOS, addEOS := v.Model == GGUFModelLlama, false // llama.cpp's defaults per model
	var scores []float32
	switch v.Model {
	case GGUFModelLlama:
		if len(v.Scores) != n {
			return nil, fmt.Errorf("tokenizer.ggml.scores has %d entries for %d tokens", len(v.Scores), n)
		}
		scores = v.Scores
		f.Model.ByteFallback = true
		space := `▁`
		norm := []*componentJSON{{Type: "Replace", Pattern: &patternJSON{String: &[]string{" "}[0]}, Content: space}}
		dec := []*componentJSON{{Type: "Replace", Pattern: &patternJSON{String: &space}, Content: " "}, {Type: "ByteFallback"}, {Type: "Fuse"}}
		if v.AddSpacePrefix == nil || *v.AddSpacePrefix {
			norm = append([]*componentJSON{{Type: "Prepend", Prepend: space}}, norm...)
			dec = append(dec, &componentJSON{Type: "Strip", Content: " ", Start: 1})
		}
		f.Normalizer = &componentJSON{Type: "Sequence", Normalizers: norm}
		f.Decoder = &componentJSON{Type: "Sequence", Decoders: dec}
	case GGUFModelGPT2:
		if len(v.Merges) == 0 {
			return nil, fmt.Errorf("gpt2 GGUF vocabulary has no merges (tokenizer.ggml.merges)")
		}
		pre := v.Pre
		if pre == "" {
			pre = "default"
		}
		re, ok := preRegex[pre]
		if !ok {
			return nil, fmt.Errorf("%w: tokenizer.ggml.pre %q (supported: default, gpt-2, llama-bpe, qwen2)", ErrUnsupported, pre)
		}
		f.Model.Merges = make(mergesJSON, len(v.Merges))
		for i, m := range v.Merges {
			a, b, ok := strings.Cut(m, " ")
			if !ok || a == "" || b == "" {
				return nil, fmt.Errorf("tokenizer.ggml.merges[%d] %q is not two tokens separated by a space", i, m)
			}
			f.Model.Merges[i] = [2]string{a, b}
		}
		off := false
		f.PreTokenizer = &componentJSON{Type: "Sequence", Pretokenizers: []*componentJSON{
			{Type: "Split", Pattern: &patternJSON{Regex: &re}, Behavior: "Isolated"},
			{Type: "ByteLevel", AddPrefixSpace: &off, UseRegex: &off},
		}}
		switch pre {
		case "qwen2": // Qwen's tokenizer.json normalizes to NFC
			f.Normalizer = &componentJSON{Type: "NFC"}
		case "llama-bpe": // Llama 3: whole-word vocab hits skip the merges, and BOS is added (llama.cpp's defaults)
			f.Model.IgnoreMerges, addBOS = true, true
		}
		f.Decoder = &componentJSON{Type: "ByteLevel"}
	default:
		return nil, fmt.Errorf("%w: tokenizer.ggml.model %q (supported: %s, %s)", ErrUnsupported, v.Model, GGUFModelLlama, GGUFModelGPT2)
	}
	if v.AddBOS != nil {
		addBOS = *v.AddBOS
	}
	if v.AddEOS != nil {
		addEOS = *v.AddEOS
	}
	cfg := configJSON{AddBOSToken: &addBOS, AddEOSToken: &addEOS}
	t, err := build(&f, &cfg, scores)
	if err != nil {
		return nil, fmt.Errorf("GGUF %s vocabulary: %w", v.Model, err)
	}
	// Ids straight from the metadata, not looked up by text.
	t.bos, t.eos = v.BOS, v.EOS
	t.prefix, t.suffix = nil, nil
	if addBOS && v.BOS >= 0 {
		t.prefix = []int{v.BOS}
	}
	if addEOS && v.EOS >= 0 {
		t.suffix = []int{v.EOS}
	}
	// Converters pad a vocabulary to the embedding's rows with unused
	// "[PADn]" tokens (Phi-3 32011 → 32064, Qwen2.5 151665 → 151936): they
	// are no part of the tokenizer, so the worker never samples them.
	t.vocabSize = n
	for t.vocabSize > 0 && v.tokenType(t.vocabSize-1) == TokenUnused {
		t.vocabSize--
	}
	return t, nil
}

func (v *GGUFVocab) tokenType(id int) int32 {
	if v.TokenType == nil {
		return TokenNormal
	}
	return v.TokenType[id]
}
