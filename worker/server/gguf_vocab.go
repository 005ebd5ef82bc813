package server

import (
	"errors"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

// GGUFVocab reads the tokenizer.ggml.* metadata of a GGUF file. Required:
// the model and the tokens (scores for llama, merges for gpt2, which
// tokenizer.NewFromGGUF checks); every error names its key.
func GGUFVocab(f *gguf.File) (tokenizer.GGUFVocab, error) {
	v := tokenizer.GGUFVocab{BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	var err error
	if v.Model, err = f.String("tokenizer.ggml.model"); err != nil {
		return v, err
	}
	if v.Tokens, err = f.Strings("tokenizer.ggml.tokens"); err != nil {
		return v, err
	}
	opt := func(err error) error {
		if errors.Is(err, gguf.ErrMissingKey) {
			return nil
		}
		return err
	}
	var errs []error
	v.Pre, err = f.String("tokenizer.ggml.pre")
	errs = append(errs, opt(err))
	v.Scores, err = f.Float32s("tokenizer.ggml.scores")
	errs = append(errs, opt(err))
	v.TokenType, err = f.Int32s("tokenizer.ggml.token_type")
	errs = append(errs, opt(err))
	v.Merges, err = f.Strings("tokenizer.ggml.merges")
	errs = append(errs, opt(err))
	for key, dst := range map[string]*int{"bos": &v.BOS, "eos": &v.EOS, "unknown": &v.UNK, "padding": &v.PAD} {
		// An id outside the vocabulary (converters write 0xFFFFFFFF for
		// "none") is ignored, as llama.cpp does.
		id, err := f.Uint("tokenizer.ggml." + key + "_token_id")
		if err == nil && id < uint64(len(v.Tokens)) {
			*dst = int(id)
		}
		errs = append(errs, opt(err))
	}
	for key, dst := range map[string]**bool{"add_bos_token": &v.AddBOS, "add_eos_token": &v.AddEOS, "add_space_prefix": &v.AddSpacePrefix} {
		b, err := f.Bool("tokenizer.ggml." + key)
		if err == nil {
			*dst = &b
		}
		errs = append(errs, opt(err))
	}
	return v, errors.Join(errs...)
}

// AddGGUFVocab writes a vocabulary as the tokenizer.ggml.* metadata
// GGUFVocab reads (for tests and the tiny-model generator).
func AddGGUFVocab(w *gguf.Writer, v tokenizer.GGUFVocab) error {
	kvs := []struct {
		key string
		val any
		ok  bool
	}{
		{"tokenizer.ggml.model", v.Model, true},
		{"tokenizer.ggml.pre", v.Pre, v.Pre != ""},
		{"tokenizer.ggml.tokens", v.Tokens, true},
		{"tokenizer.ggml.scores", v.Scores, v.Scores != nil},
		{"tokenizer.ggml.token_type", v.TokenType, v.TokenType != nil},
		{"tokenizer.ggml.merges", v.Merges, v.Merges != nil},
		{"tokenizer.ggml.bos_token_id", uint32(v.BOS), v.BOS >= 0},
		{"tokenizer.ggml.eos_token_id", uint32(v.EOS), v.EOS >= 0},
		{"tokenizer.ggml.unknown_token_id", uint32(v.UNK), v.UNK >= 0},
		{"tokenizer.ggml.padding_token_id", uint32(v.PAD), v.PAD >= 0},
	}
	for _, b := range []struct {
		key string
		val *bool
	}{{"tokenizer.ggml.add_bos_token", v.AddBOS}, {"tokenizer.ggml.add_eos_token", v.AddEOS}, {"tokenizer.ggml.add_space_prefix", v.AddSpacePrefix}} {
		if b.val != nil {
			kvs = append(kvs, struct {
				key string
				val any
				ok  bool
			}{b.key, *b.val, true})
		}
	}
	for _, kv := range kvs {
		if !kv.ok {
			continue
		}
		if err := w.AddKV(kv.key, kv.val); err != nil {
			return err
		}
	}
	return nil
}
