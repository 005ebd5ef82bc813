package tinymodel

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

// VocabOptions says how to turn a tokenizer.json into GGUF tokenizer
// metadata, as llama.cpp's convert_hf_to_gguf.py does.
type VocabOptions struct {
	Model     string // tokenizer.ggml.model: "llama" (SentencePiece BPE) or "gpt2" (byte-level BPE)
	Pre       string // tokenizer.ggml.pre: "default" for llama, the split regex name for gpt2 ("qwen2")
	VocabSize int    // rows of the embedding; ids the tokenizer lacks become "[PAD<id>]" UNUSED tokens
	// config.json's special ids, used where tokenizer_config.json names no
	// such token (Qwen2 has bos_token null but bos_token_id 151643); -1 = none.
	BOS, EOS, Pad int
}

type hfTokenizer struct {
	Model struct {
		Vocab  map[string]int  `json:"vocab"`
		Merges json.RawMessage `json:"merges"`
	} `json:"model"`
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		Special    bool   `json:"special"`
		Normalized bool   `json:"normalized"`
	} `json:"added_tokens"`
}

// hfConfig is the part of tokenizer_config.json the converter reads. Token
// fields are a string, an AddedToken object or null.
type hfConfig struct {
	AddBOS       *bool           `json:"add_bos_token"`
	AddEOS       *bool           `json:"add_eos_token"`
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
	Unk          json.RawMessage `json:"unk_token"`
	Pad          json.RawMessage `json:"pad_token"`
	ChatTemplate *string         `json:"chat_template"`
}

var byteToken = regexp.MustCompile(`^<0x[0-9A-Fa-f]{2}>$`)

// looksSpecial is convert_hf_to_gguf.py's does_token_look_special: added
// tokens spelled like <|...|> are control tokens even when not marked special.
func looksSpecial(s string) bool {
	return s == "<pad>" || s == "<mask>" || strings.HasPrefix(s, "<|") && strings.HasSuffix(s, "|>") ||
		strings.HasPrefix(s, "<unused") && strings.HasSuffix(s, ">")
}

// AddVocab adds to w the tokenizer.ggml.* metadata for a tokenizer.json and
// its tokenizer_config.json: model, pre, tokens (VocabSize of them),
// token_type, scores (llama) or merges (gpt2), the special token ids,
// add_bos/add_eos and the chat template.
//
// Scores for the SentencePiece model: llama.cpp's SPM tokenizer merges the
// adjacent pair whose concatenation has the highest score, so a token made
// by merge number r scores -r and the BPE merge order of tokenizer.json is
// what llama.cpp follows. (convert_hf_to_gguf.py, lacking tokenizer.model,
// writes -1000 for all, which tokenizes differently.)
func AddVocab(w *gguf.Writer, tokenizerJSON, tokenizerConfig []byte, o VocabOptions) error {
	kvs, err := vocabKVs(tokenizerJSON, tokenizerConfig, o)
	if err != nil {
		return err
	}
	return addAll(w, kvs)
}

func vocabKVs(tokenizerJSON, tokenizerConfig []byte, o VocabOptions) ([]kv, error) {
	var tok hfTokenizer
	if err := json.Unmarshal(tokenizerJSON, &tok); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	var cfg hfConfig
	if err := json.Unmarshal(tokenizerConfig, &cfg); err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: %w", err)
	}
	merges, err := parseMerges(tok.Model.Merges)
	if err != nil {
		return nil, err
	}
	tokens := make([]string, o.VocabSize)
	types := make([]int32, o.VocabSize)
	ids := map[string]int{}
	for s, id := range tok.Model.Vocab {
		if id < 0 || id >= o.VocabSize {
			return nil, fmt.Errorf("tokenizer.json: token %q has id %d outside the vocabulary of %d", s, id, o.VocabSize)
		}
		tokens[id], types[id], ids[s] = s, tokenizer.TokenNormal, id
		if o.Model == "llama" && byteToken.MatchString(s) {
			types[id] = tokenizer.TokenByte
		}
	}
	unk := tokenContent(cfg.Unk)
	for _, a := range tok.AddedTokens {
		if a.ID < 0 || a.ID >= o.VocabSize {
			return nil, fmt.Errorf("tokenizer.json: added token %q has id %d outside the vocabulary of %d", a.Content, a.ID, o.VocabSize)
		}
		tokens[a.ID], ids[a.Content] = a.Content, a.ID
		switch {
		case o.Model == "llama" && a.Content == unk:
			types[a.ID] = tokenizer.TokenUnknown
		case a.Special || looksSpecial(a.Content):
			types[a.ID] = tokenizer.TokenControl
		default:
			types[a.ID] = tokenizer.TokenUserDefined
		}
	}
	for id := range tokens {
		if types[id] == 0 {
			tokens[id], types[id] = fmt.Sprintf("[PAD%d]", id), tokenizer.TokenUnused
		}
	}
	kvs := []kv{{"tokenizer.ggml.model", o.Model}, {"tokenizer.ggml.pre", o.Pre},
		{"tokenizer.ggml.tokens", tokens}, {"tokenizer.ggml.token_type", types}}
	if o.Model == "llama" {
		kvs = append(kvs, kv{"tokenizer.ggml.scores", spmScores(tokens, types, merges)})
	} else {
		kvs = append(kvs, kv{"tokenizer.ggml.merges", merges})
	}
	for _, sp := range []struct {
		key      string
		content  json.RawMessage
		fallback int
	}{{"bos_token_id", cfg.BOS, o.BOS}, {"eos_token_id", cfg.EOS, o.EOS}, {"unknown_token_id", cfg.Unk, -1}, {"padding_token_id", cfg.Pad, o.Pad}} {
		id, ok := ids[tokenContent(sp.content)]
		if !ok {
			id = sp.fallback
		}
		if id >= 0 {
			kvs = append(kvs, kv{"tokenizer.ggml." + sp.key, uint32(id)})
		}
	}
	if cfg.AddBOS != nil {
		kvs = append(kvs, kv{"tokenizer.ggml.add_bos_token", *cfg.AddBOS})
	}
	if cfg.AddEOS != nil {
		kvs = append(kvs, kv{"tokenizer.ggml.add_eos_token", *cfg.AddEOS})
	}
	if cfg.ChatTemplate != nil {
		kvs = append(kvs, kv{"tokenizer.chat_template", *cfg.ChatTemplate})
	}
	return kvs, nil
}

// spmScores: 0 for control, unknown and byte tokens; -r for the token merge r
// makes; below every merge for normal tokens no merge makes (single
// characters, which start every segmentation anyway).
func spmScores(tokens []string, types []int32, merges []string) []float32 {
	scores := make([]float32, len(tokens))
	rank := map[string]int{}
	for r, m := range merges {
		joined := strings.Replace(m, " ", "", 1)
		if _, seen := rank[joined]; !seen {
			rank[joined] = r
		}
	}
	for id, s := range tokens {
		if types[id] != tokenizer.TokenNormal {
			continue
		}
		r, ok := rank[s]
		if !ok {
			r = len(merges) + id
		}
		scores[id] = -float32(r)
	}
	return scores
}

// parseMerges reads tokenizer.json merges in either spelling: "a b" strings
// or [a, b] pairs (newer tokenizers), as GGUF's "a b" strings.
func parseMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var asStrings []string
	if err := json.Unmarshal(raw, &asStrings); err == nil {
		return asStrings, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("tokenizer.json: merges are neither strings nor pairs: %w", err)
	}
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + " " + p[1]
	}
	return out, nil
}

// tokenContent reads a tokenizer_config token: "text", {"content": "text"}
// or null ("").
func tokenContent(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

// kv is one metadata entry before it is added to a Writer.
type kv struct {
	key string
	v   any
}

func addAll(w *gguf.Writer, kvs []kv) error {
	for _, e := range kvs {
		if err := w.AddKV(e.key, e.v); err != nil {
			return fmt.Errorf("tiny model GGUF: %w", err)
		}
	}
	return nil
}
