package server

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

// loadGGUF loads a single-file GGUF model: the engine reads the weights and
// hyperparameters, the tokenizer its tokenizer.ggml.* metadata.
func loadGGUF(path string, opts LoadOptions) (*Backend, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	b, err := ggufBackend(path, f, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModel, path, errors.Join(err, f.Close()))
	}
	return b, nil
}

func ggufBackend(path string, f *gguf.File, opts LoadOptions) (*Backend, error) {
	v, err := GGUFVocab(f)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.NewFromGGUF(v)
	if err != nil {
		return nil, err
	}
	m, err := engine.NewFromGGUF(f, engine.Options{Threads: opts.Threads})
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() > m.Config().VocabSize {
		return nil, errors.Join(fmt.Errorf("tokenizer has %d tokens but token_embd.weight has %d rows", tok.VocabSize(), m.Config().VocabSize), m.Close())
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return newBackend(name, m, tok, func() error { return errors.Join(m.Close(), f.Close()) }, endOfGeneration(f, v)...)
}

// eogTexts are control tokens llama.cpp also ends generation on (its
// end-of-generation set), found by their text: chat models end a turn with
// them rather than with tokenizer.ggml.eos_token_id.
var eogTexts = map[string]bool{"<|eot_id|>": true, "<|eom_id|>": true, "<|im_end|>": true, "<|end|>": true,
	"<|endoftext|>": true, "<|end_of_text|>": true, "<end_of_turn>": true}

func endOfGeneration(f *gguf.File, v tokenizer.GGUFVocab) []int {
	var ids []int
	for _, key := range []string{"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"} {
		if id, err := f.Uint(key); err == nil && id < uint64(len(v.Tokens)) {
			ids = append(ids, int(id))
		}
	}
	for id, text := range v.Tokens {
		if eogTexts[text] && v.TokenType != nil && v.TokenType[id] == tokenizer.TokenControl {
			ids = append(ids, id)
		}
	}
	// In a SentencePiece vocabulary <s> only ever starts a sequence: a model
	// that emits it has begun a new document, so this one is over. llama2.c's
	// run.c stops there (its stories end on BOS, and its GGUF files name only
	// </s> as EOS); llama.cpp would go on into the next story.
	if v.Model == tokenizer.GGUFModelLlama && v.BOS >= 0 && v.BOS != v.EOS {
		ids = append(ids, v.BOS)
	}
	return ids
}
