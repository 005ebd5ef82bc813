// Package tokenizer encodes and decodes text with Hugging Face tokenizer.json
// files of the BPE families the worker serves: SentencePiece-style BPE with
// byte fallback (Llama, Mistral, Phi-3) and GPT-2 byte-level BPE with a Split
// regex pre-tokenizer (Qwen2). Components it does not implement are refused
// at load time with ErrUnsupported rather than encoded wrongly.
package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrUnsupported marks a tokenizer.json component this package does not implement.
var ErrUnsupported = errors.New("unsupported tokenizer component")

// Tokenizer is safe for concurrent use.
type Tokenizer struct {
	model       *bpe
	table       *byteTable
	normalizer  normalizer   // nil = none
	pre         preTokenizer // nil = a section is one word
	dec         decoderSpec
	addedByID   map[int]*addedToken
	addedByText map[string]*addedToken
	rawAdded    *addedMatcher // tokens matched in the raw text
	normAdded   *addedMatcher // tokens matched after normalization
	prefix      []int         // ids the post-processor puts before the text
	suffix      []int         // and after it
	bos, eos    int           // -1 if unknown
	vocabSize   int
}

// Load reads dir/tokenizer.json and, when present, dir/tokenizer_config.json.
// dir may also be a file of the model folder (model.safetensors,
// tokenizer.json): its folder is used.
func Load(dir string) (*Tokenizer, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	path := filepath.Join(dir, "tokenizer.json")
	tj, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tokenizer: %w", err)
	}
	cj, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read tokenizer config: %w", err)
	}
	t, err := New(tj, cj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// New builds a tokenizer from the bytes of tokenizer.json and
// tokenizer_config.json (which may be nil).
func New(tokenizerJSON, tokenizerConfigJSON []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(tokenizerJSON, &f); err != nil {
		return nil, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	var cfg configJSON
	if len(tokenizerConfigJSON) > 0 {
		if err := json.Unmarshal(tokenizerConfigJSON, &cfg); err != nil {
			return nil, fmt.Errorf("parse tokenizer_config.json: %w", err)
		}
	}
	return build(&f, &cfg, nil)
}

// build assembles a tokenizer from tokenizer.json parts; scores, when not
// nil, make the model merge by SentencePiece score instead of merge rank.
func build(f *fileJSON, cfg *configJSON, scores []float32) (*Tokenizer, error) {
	t := &Tokenizer{table: newByteTable(), bos: -1, eos: -1}
	var err error
	if t.model, err = newBPE(&f.Model); err != nil {
		return nil, err
	}
	if scores != nil {
		t.model.setScores(scores, f.AddedTokens)
	}
	if t.normalizer, err = buildNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if t.pre, err = buildPreTokenizer(f.PreTokenizer, t.table); err != nil {
		return nil, err
	}
	if t.dec, err = buildDecoder(f.Decoder); err != nil {
		return nil, err
	}
	t.setAddedTokens(f.AddedTokens, cfg.AddedTokensDecoder)
	if t.prefix, t.suffix, err = t.postProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	t.setBOSEOS(cfg)
	t.vocabSize = len(t.model.tokens)
	for id := range t.addedByID {
		t.vocabSize = max(t.vocabSize, id+1)
	}
	return t, nil
}

// setAddedTokens merges tokenizer.json added_tokens with any extra entries
// of tokenizer_config.json added_tokens_decoder and builds the matchers.
func (t *Tokenizer) setAddedTokens(list []addedTokenJSON, extra map[string]addedTokenJSON) {
	t.addedByID = make(map[int]*addedToken)
	t.addedByText = make(map[string]*addedToken)
	add := func(a addedTokenJSON) {
		if a.Content == "" {
			return
		}
		tok := &addedToken{id: a.ID, content: a.Content, pattern: a.Content, singleWord: a.SingleWord,
			lstrip: a.LStrip, rstrip: a.RStrip, normalized: a.Normalized, special: a.Special}
		if tok.normalized && t.normalizer != nil {
			tok.pattern = t.normalizer.normalize(tok.content)
		}
		t.addedByID[tok.id] = tok
		t.addedByText[tok.content] = tok
	}
	for _, a := range list {
		add(a)
	}
	ids := make([]int, 0, len(extra))
	for k, a := range extra {
		id, err := strconv.Atoi(k)
		if err != nil || t.addedByID[id] != nil {
			continue
		}
		a.ID = id
		ids = append(ids, id)
		extra[k] = a
	}
	sort.Ints(ids)
	for _, id := range ids {
		add(extra[strconv.Itoa(id)])
	}
	var raw, normed []*addedToken
	for _, id := range sortedIDs(t.addedByID) {
		tok := t.addedByID[id]
		if t.addedByText[tok.content] != tok {
			continue // shadowed by a later token with the same text
		}
		if tok.normalized && t.normalizer != nil {
			normed = append(normed, tok)
		} else {
			raw = append(raw, tok)
		}
	}
	t.rawAdded, t.normAdded = newAddedMatcher(raw), newAddedMatcher(normed)
}

func sortedIDs(m map[int]*addedToken) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// postProcessor returns the ids a single-sequence post-processor adds.
func (t *Tokenizer) postProcessor(c *componentJSON) (prefix, suffix []int, err error) {
	if c == nil {
		return nil, nil, nil
	}
	switch c.Type {
	case "ByteLevel":
		return nil, nil, nil
	case "Sequence":
		for _, sub := range c.Processors {
			p, s, err := t.postProcessor(sub)
			if err != nil {
				return nil, nil, err
			}
			prefix, suffix = append(prefix, p...), append(s, suffix...)
		}
		return prefix, suffix, nil
	case "TemplateProcessing":
		seen := false
		for _, p := range c.Single {
			switch {
			case p.Sequence != nil:
				seen = true
			case p.SpecialToken != nil:
				st, ok := c.SpecialTokens[p.SpecialToken.ID]
				if !ok {
					return nil, nil, fmt.Errorf("post_processor uses special token %q it does not define", p.SpecialToken.ID)
				}
				if seen {
					suffix = append(suffix, st.IDs...)
				} else {
					prefix = append(prefix, st.IDs...)
				}
			}
		}
		return prefix, suffix, nil
	case "BertProcessing", "RobertaProcessing":
		if c.Cls == nil || c.Sep == nil {
			return nil, nil, fmt.Errorf("post_processor %s without cls/sep", c.Type)
		}
		return []int{c.Cls.ID}, []int{c.Sep.ID}, nil
	}
	return nil, nil, fmt.Errorf("%w: post_processor %q", ErrUnsupported, c.Type)
}

// setBOSEOS names BOS/EOS from tokenizer_config.json (else the template's
// first token / a conventional end token) and lets add_bos_token /
// add_eos_token override the template, as transformers' Llama tokenizer does.
func (t *Tokenizer) setBOSEOS(cfg *configJSON) {
	if id, ok := t.TokenID(string(cfg.BOSToken)); ok && cfg.BOSToken != "" {
		t.bos = id
	} else if cfg.BOSToken == "" && len(t.prefix) > 0 {
		t.bos = t.prefix[0]
	}
	if id, ok := t.TokenID(string(cfg.EOSToken)); ok && cfg.EOSToken != "" {
		t.eos = id
	} else if cfg.EOSToken == "" {
		for _, name := range []string{"</s>", "<|endoftext|>", "<|end_of_text|>"} {
			if tok := t.addedByText[name]; tok != nil && tok.special {
				t.eos = tok.id
				break
			}
		}
	}
	if cfg.AddBOSToken != nil && t.bos >= 0 {
		t.prefix = without(t.prefix, t.bos)
		if *cfg.AddBOSToken {
			t.prefix = append([]int{t.bos}, t.prefix...)
		}
	}
	if cfg.AddEOSToken != nil && t.eos >= 0 {
		t.suffix = without(t.suffix, t.eos)
		if *cfg.AddEOSToken {
			t.suffix = append(t.suffix, t.eos)
		}
	}
}

func without(ids []int, id int) []int {
	var out []int
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// Encode tokenizes text. addSpecial adds what the post-processor and
// tokenizer_config.json ask for (BOS for Llama, nothing for Qwen). Text that
// spells an added token is encoded as that token. Invalid UTF-8 is read as
// U+FFFD. The result is never nil.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	ids := make([]int, 0, len(text)/3+len(t.prefix)+len(t.suffix)+1)
	if addSpecial {
		ids = append(ids, t.prefix...)
	}
	for _, seg := range t.rawAdded.split(text, nil) {
		if seg.tok != nil {
			ids = append(ids, seg.tok.id)
			continue
		}
		s := seg.text
		if t.normalizer != nil {
			s = t.normalizer.normalize(s)
		}
		for _, sub := range t.normAdded.split(s, nil) {
			if sub.tok != nil {
				ids = append(ids, sub.tok.id)
				continue
			}
			words := []string{sub.text}
			if t.pre != nil {
				words = t.pre.apply(words, seg.start == 0 && sub.start == 0)
			}
			for _, w := range words {
				ids = t.model.encodeWord(w, ids)
			}
		}
	}
	if addSpecial {
		ids = append(ids, t.suffix...)
	}
	return ids
}

// Decode turns ids back into text; skipSpecial drops special tokens.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	d := t.NewStreamDecoder(skipSpecial)
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(d.Push(id))
	}
	b.WriteString(d.Flush())
	return b.String()
}

// idToken returns the token string of id and its added-token entry, if any.
func (t *Tokenizer) idToken(id int) (string, *addedToken, bool) {
	if a := t.addedByID[id]; a != nil {
		return a.content, a, true
	}
	if id >= 0 && id < len(t.model.tokens) && t.model.tokens[id] != "" {
		return t.model.tokens[id], nil, true
	}
	return "", nil, false
}

// VocabSize is one more than the largest id, added tokens included.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// BOS is the beginning-of-sequence id, if the tokenizer has one.
func (t *Tokenizer) BOS() (int, bool) { return t.bos, t.bos >= 0 }

// EOS is the end-of-sequence id named by tokenizer_config.json.
func (t *Tokenizer) EOS() (int, bool) { return t.eos, t.eos >= 0 }

// TokenID looks a token string up among added tokens, then the vocab.
func (t *Tokenizer) TokenID(s string) (int, bool) {
	if a := t.addedByText[s]; a != nil {
		return a.id, true
	}
	id, ok := t.model.vocab[s]
	return id, ok
}

// Token returns the token string of id.
func (t *Tokenizer) Token(id int) (string, bool) {
	s, _, ok := t.idToken(id)
	return s, ok
}

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id int) bool {
	a := t.addedByID[id]
	return a != nil && a.special
}
