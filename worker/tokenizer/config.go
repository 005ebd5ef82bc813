package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// fileJSON is the part of a Hugging Face tokenizer.json this package reads.
type fileJSON struct {
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    *componentJSON   `json:"normalizer"`
	PreTokenizer  *componentJSON   `json:"pre_tokenizer"`
	PostProcessor *componentJSON   `json:"post_processor"`
	Decoder       *componentJSON   `json:"decoder"`
	Model         modelJSON        `json:"model"`
}

type addedTokenJSON struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    string         `json:"type"`
	UnkToken                *string        `json:"unk_token"`
	ContinuingSubwordPrefix *string        `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string        `json:"end_of_word_suffix"`
	FuseUnk                 bool           `json:"fuse_unk"`
	ByteFallback            bool           `json:"byte_fallback"`
	IgnoreMerges            bool           `json:"ignore_merges"`
	Dropout                 *float64       `json:"dropout"`
	Vocab                   map[string]int `json:"vocab"`
	Merges                  mergesJSON     `json:"merges"`
}

// mergesJSON is the BPE merge list; tokenizer.json spells a merge "a b"
// (older files) or ["a", "b"] (newer files, which allow spaces in tokens).
// The whole list is decoded in one go: a per-merge UnmarshalJSON would
// re-scan each element and make loading a 150k-merge file much slower.
type mergesJSON [][2]string

func (m *mergesJSON) UnmarshalJSON(b []byte) error {
	rest := bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimSpace(b), []byte("[")), " \t\r\n")
	if len(rest) > 0 && rest[0] == '"' {
		var lines []string
		if err := json.Unmarshal(b, &lines); err != nil {
			return err
		}
		*m = make(mergesJSON, len(lines))
		for i, s := range lines {
			a, c, ok := strings.Cut(s, " ")
			if !ok || a == "" || c == "" {
				return fmt.Errorf("merge %q is not two tokens separated by a space", s)
			}
			(*m)[i] = [2]string{a, c}
		}
		return nil
	}
	var pairs [][]string
	if err := json.Unmarshal(b, &pairs); err != nil {
		return err
	}
	*m = make(mergesJSON, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return fmt.Errorf("merge %q does not have two tokens", p)
		}
		(*m)[i] = [2]string{p[0], p[1]}
	}
	return nil
}

type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// componentJSON holds the fields of every normalizer, pre-tokenizer,
// post-processor and decoder this package understands; Type says which.
type componentJSON struct {
	Type string `json:"type"`

	Normalizers   []*componentJSON `json:"normalizers"`
	Pretokenizers []*componentJSON `json:"pretokenizers"`
	Decoders      []*componentJSON `json:"decoders"`
	Processors    []*componentJSON `json:"processors"`

	Prepend          string       `json:"prepend"`
	Pattern          *patternJSON `json:"pattern"`
	Content          string       `json:"content"`
	Behavior         string       `json:"behavior"`
	Invert           bool         `json:"invert"`
	AddPrefixSpace   *bool        `json:"add_prefix_space"`
	UseRegex         *bool        `json:"use_regex"`
	Replacement      string       `json:"replacement"`
	PrependScheme    string       `json:"prepend_scheme"`
	Split            *bool        `json:"split"`
	Start            int          `json:"start"`
	Stop             int          `json:"stop"`
	StripLeft        *bool        `json:"strip_left"`
	StripRight       *bool        `json:"strip_right"`
	IndividualDigits bool         `json:"individual_digits"`

	// TemplateProcessing
	Single        []templatePieceJSON            `json:"single"`
	SpecialTokens map[string]templateSpecialJSON `json:"special_tokens"`
	// BertProcessing / RobertaProcessing
	Sep *tokenRefJSON `json:"sep"`
	Cls *tokenRefJSON `json:"cls"`
}

type templatePieceJSON struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

type templateSpecialJSON struct {
	ID  string `json:"id"`
	IDs []int  `json:"ids"`
}

// tokenRefJSON is the ["</s>", 2] pair of Bert/Roberta post-processors.
type tokenRefJSON struct {
	Token string
	ID    int
}

func (r *tokenRefJSON) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if len(pair) != 2 {
		return fmt.Errorf("token reference %s is not [token, id]", b)
	}
	if err := json.Unmarshal(pair[0], &r.Token); err != nil {
		return err
	}
	return json.Unmarshal(pair[1], &r.ID)
}

// configJSON is the part of tokenizer_config.json this package reads.
type configJSON struct {
	AddBOSToken        *bool                     `json:"add_bos_token"`
	AddEOSToken        *bool                     `json:"add_eos_token"`
	BOSToken           tokenNameJSON             `json:"bos_token"`
	EOSToken           tokenNameJSON             `json:"eos_token"`
	AddedTokensDecoder map[string]addedTokenJSON `json:"added_tokens_decoder"`
}

// tokenNameJSON is a special token named in tokenizer_config.json: a string,
// an AddedToken object {"content": ...}, or null.
type tokenNameJSON string

func (n *tokenNameJSON) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*n = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = tokenNameJSON(s)
		return nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*n = tokenNameJSON(obj.Content)
	return nil
}
