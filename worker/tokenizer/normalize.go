package tokenizer

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/dlclark/regexp2/v2"
	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a section of input text before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

type normSequence []normalizer

func (n normSequence) normalize(s string) string {
	for _, x := range n {
		s = x.normalize(s)
	}
	return s
}

type normUnicode struct{ form norm.Form }

func (n normUnicode) normalize(s string) string { return n.form.String(s) }

// normPrepend adds its text in front of non-empty input (HF Prepend).
type normPrepend struct{ prefix string }

func (n normPrepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return n.prefix + s
}

type normReplace struct{ rep replacer }

func (n normReplace) normalize(s string) string { return n.rep.replace(s) }

type normLowercase struct{}

func (normLowercase) normalize(s string) string { return strings.ToLower(s) }

type normStrip struct{ left, right bool }

func (n normStrip) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s
}

// replacer replaces every occurrence of a literal string or regex match.
type replacer struct {
	literal string
	re      *regexp2.Regexp
	content string
}

func newReplacer(p *patternJSON, content string) (replacer, error) {
	switch {
	case p == nil:
		return replacer{}, fmt.Errorf("Replace without a pattern")
	case p.String != nil:
		if *p.String == "" {
			return replacer{}, fmt.Errorf("Replace with an empty pattern")
		}
		return replacer{literal: *p.String, content: content}, nil
	case p.Regex != nil:
		re, err := compileRegex(*p.Regex)
		if err != nil {
			return replacer{}, err
		}
		return replacer{re: re, content: content}, nil
	}
	return replacer{}, fmt.Errorf("Replace pattern is neither String nor Regex")
}

func (r replacer) replace(s string) string {
	if r.re == nil {
		return strings.ReplaceAll(s, r.literal, r.content)
	}
	var b strings.Builder
	last := 0
	for _, m := range findAll(r.re, s) {
		b.WriteString(s[last:m[0]])
		b.WriteString(r.content)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// compileRegex compiles a tokenizer.json (Oniguruma-syntax) pattern with
// regexp2, which has the lookaround RE2 lacks; no backtracking limit so long
// runs of whitespace cannot make a match fail.
func compileRegex(pattern string) (*regexp2.Regexp, error) {
	re, err := regexp2.Compile(pattern, regexp2.None, regexp2.OptionMaxBacktrackingStackSize(-1))
	if err != nil {
		return nil, fmt.Errorf("compile pattern %q: %w", pattern, err)
	}
	return re, nil
}

// findAll returns the byte ranges of all non-empty matches. Without a match
// timeout and with an unbounded stack, regexp2 cannot fail on valid UTF-8.
func findAll(re *regexp2.Regexp, s string) [][]int {
	ms, err := re.FindAllStringIndex(s, -1)
	if err != nil {
		panic(fmt.Sprintf("tokenizer: regexp2 failed on valid input: %v", err))
	}
	return ms
}

func buildNormalizer(c *componentJSON) (normalizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var seq normSequence
		for _, sub := range c.Normalizers {
			n, err := buildNormalizer(sub)
			if err != nil {
				return nil, err
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return seq, nil
	case "NFC":
		return normUnicode{norm.NFC}, nil
	case "NFD":
		return normUnicode{norm.NFD}, nil
	case "NFKC":
		return normUnicode{norm.NFKC}, nil
	case "NFKD":
		return normUnicode{norm.NFKD}, nil
	case "Lowercase":
		return normLowercase{}, nil
	case "Prepend":
		return normPrepend{c.Prepend}, nil
	case "Replace":
		r, err := newReplacer(c.Pattern, c.Content)
		if err != nil {
			return nil, fmt.Errorf("normalizer: %w", err)
		}
		return normReplace{r}, nil
	case "Strip":
		return normStrip{left: c.StripLeft == nil || *c.StripLeft, right: c.StripRight == nil || *c.StripRight}, nil
	}
	return nil, fmt.Errorf("%w: normalizer %q", ErrUnsupported, c.Type)
}
