package tokenizer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

var byteToken = regexp.MustCompile(`^<0x[0-9A-F]{2}>$`)

// GGUFVocabFromJSON converts a Hugging Face tokenizer.json (+ optional
// tokenizer_config.json) of a family this package serves into the GGUF
// vocabulary llama.cpp's converter would write: SentencePiece-style BPE with
// byte fallback becomes "llama" (scores from the merge order, see
// spmScores), byte-level BPE becomes
// "gpt2" with its merges and the tokenizer.ggml.pre of its split regex.
// Added tokens become control (special) or user-defined tokens.
func GGUFVocabFromJSON(tokenizerJSON, tokenizerConfigJSON []byte) (GGUFVocab, error) {
	t, err := New(tokenizerJSON, tokenizerConfigJSON)
	if err != nil {
		return GGUFVocab{}, err
	}
	var f fileJSON
	if err := json.Unmarshal(tokenizerJSON, &f); err != nil {
		return GGUFVocab{}, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	v := GGUFVocab{BOS: t.bos, EOS: t.eos, UNK: t.model.unk, PAD: -1,
		Tokens: make([]string, t.vocabSize), TokenType: make([]int32, t.vocabSize)}
	for id := range v.Tokens {
		tok, added, ok := t.idToken(id)
		switch {
		case !ok:
			v.Tokens[id], v.TokenType[id] = fmt.Sprintf("[PAD%d]", id), TokenUnused
		case added != nil && id == v.UNK:
			v.Tokens[id], v.TokenType[id] = tok, TokenUnknown
		case added != nil && added.special:
			v.Tokens[id], v.TokenType[id] = tok, TokenControl
		case added != nil:
			v.Tokens[id], v.TokenType[id] = tok, TokenUserDefined
		case byteToken.MatchString(tok) && t.model.byteFallback:
			v.Tokens[id], v.TokenType[id] = tok, TokenByte
		default:
			v.Tokens[id], v.TokenType[id] = tok, TokenNormal
		}
	}
	addBOS, addEOS := len(t.prefix) > 0 && t.prefix[0] == t.bos, len(t.suffix) > 0 && t.suffix[len(t.suffix)-1] == t.eos
	v.AddBOS, v.AddEOS = &addBOS, &addEOS
	switch {
	case t.model.byteFallback && !t.dec.byteLevel:
		v.Model = GGUFModelLlama
		v.Scores = spmScores(t.model, f.Model.Merges, len(v.Tokens))
	case t.dec.byteLevel:
		v.Model = GGUFModelGPT2
		if v.Pre, err = preName(f.PreTokenizer); err != nil {
			return GGUFVocab{}, err
		}
		v.Merges = make([]string, len(f.Model.Merges))
		for i, m := range f.Model.Merges {
			v.Merges[i] = m[0] + " " + m[1]
		}
	default:
		return GGUFVocab{}, fmt.Errorf("%w: a tokenizer.json that is neither byte-fallback nor byte-level BPE has no GGUF vocabulary here", ErrUnsupported)
	}
	return v, nil
}

// preName finds the tokenizer.ggml.pre whose regex a byte-level
// pre-tokenizer splits with.
func preName(c *componentJSON) (string, error) {
	var re string
	switch {
	case c != nil && c.Type == "ByteLevel" && (c.UseRegex == nil || *c.UseRegex):
		re = gpt2Pattern
	case c != nil && c.Type == "Sequence" && len(c.Pretokenizers) > 0 && c.Pretokenizers[0].Pattern != nil && c.Pretokenizers[0].Pattern.Regex != nil:
		re = *c.Pretokenizers[0].Pattern.Regex
	}
	for _, name := range []string{"default", "llama-bpe", "qwen2"} {
		if re != "" && preRegex[name] == re {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: byte-level pre-tokenizer split regex %q matches no known tokenizer.ggml.pre", ErrUnsupported, strings.TrimSpace(re))
}

// spmScores inverts what transformers' SentencePiece converter does (it
// orders the merge list by the score of the merged piece): a piece scores
// minus the rank of its first merge, so merging by score replays the merge
// list. Pieces no merge makes (characters, bytes, added tokens) score
// below every merged piece.
func spmScores(b *bpe, merges mergesJSON, n int) []float32 {
	scores := make([]float32, n)
	for id := range scores {
		scores[id] = -float32(len(merges) + id)
	}
	for rank := len(merges) - 1; rank >= 0; rank-- {
		if id, ok := b.vocab[merges[rank][0]+merges[rank][1]]; ok && id < n {
			scores[id] = -float32(rank)
		}
	}
	return scores
}
