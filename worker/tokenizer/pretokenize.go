package tokenizer

import (
	"fmt"
	"strings"

	"github.com/dlclark/regexp2/v2"
)

// gpt2Pattern is the ByteLevel pre-tokenizer's built-in split (use_regex).
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// preTokenizer splits words further. atStart says words[0] begins at the
// very start of the input text (Metaspace prepend_scheme "first").
type preTokenizer interface {
	apply(words []string, atStart bool) []string
}

type preSequence []preTokenizer

func (p preSequence) apply(words []string, atStart bool) []string {
	for _, x := range p {
		words = x.apply(words, atStart)
	}
	return words
}

type splitBehavior int

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch s {
	case "Removed":
		return splitRemoved, nil
	case "Isolated":
		return splitIsolated, nil
	case "MergedWithPrevious":
		return splitMergedWithPrevious, nil
	case "MergedWithNext":
		return splitMergedWithNext, nil
	case "Contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("%w: split behavior %q", ErrUnsupported, s)
}

// piece is a byte range of a word and whether the split pattern matched it.
type piece struct {
	start, end int
	match      bool
}

// splitPieces cuts w into matched / unmatched pieces and recombines them the
// way the Hugging Face SplitDelimiterBehavior does.
func splitPieces(w string, matches [][]int, behavior splitBehavior, invert bool, out []string) []string {
	ps := make([]piece, 0, 2*len(matches)+1)
	last := 0
	for _, m := range matches {
		if m[0] > last {
			ps = append(ps, piece{last, m[0], false})
		}
		if m[1] > m[0] {
			ps = append(ps, piece{m[0], m[1], true})
		}
		last = m[1]
	}
	if last < len(w) {
		ps = append(ps, piece{last, len(w), false})
	}
	if invert {
		for i := range ps {
			ps[i].match = !ps[i].match
		}
	}
	var res []piece
	prevMatch := false
	switch behavior {
	case splitIsolated:
		res = ps
	case splitRemoved:
		for _, p := range ps {
			if !p.match {
				res = append(res, p)
			}
		}
	case splitMergedWithPrevious:
		for _, p := range ps {
			if p.match && !prevMatch && len(res) > 0 {
				res[len(res)-1].end = p.end
			} else {
				res = append(res, p)
			}
			prevMatch = p.match
		}
	case splitMergedWithNext:
		// Walk backwards: a match joins the piece after it.
		for i := len(ps) - 1; i >= 0; i-- {
			p := ps[i]
			if p.match && !prevMatch && len(res) > 0 {
				res[len(res)-1].start = p.start
			} else {
				res = append(res, p)
			}
			prevMatch = p.match
		}
		for i, j := 0, len(res)-1; i < j; i, j = i+1, j-1 {
			res[i], res[j] = res[j], res[i]
		}
	case splitContiguous:
		for _, p := range ps {
			if p.match == prevMatch && len(res) > 0 {
				res[len(res)-1].end = p.end
			} else {
				res = append(res, p)
			}
			prevMatch = p.match
		}
	}
	for _, p := range res {
		if p.end > p.start {
			out = append(out, w[p.start:p.end])
		}
	}
	return out
}

// preSplit is the HF Split pre-tokenizer (literal or regex pattern).
type preSplit struct {
	literal  string
	re       *regexp2.Regexp
	behavior splitBehavior
	invert   bool
}

func (p *preSplit) matches(w string) [][]int {
	if p.re != nil {
		return findAll(p.re, w)
	}
	var ms [][]int
	for off := 0; ; {
		i := strings.Index(w[off:], p.literal)
		if i < 0 {
			return ms
		}
		ms = append(ms, []int{off + i, off + i + len(p.literal)})
		off += i + len(p.literal)
	}
}

func (p *preSplit) apply(words []string, _ bool) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		out = splitPieces(w, p.matches(w), p.behavior, p.invert, out)
	}
	return out
}

// preByteLevel optionally adds a prefix space and splits with the GPT-2
// pattern, then maps every byte to its table character.
type preByteLevel struct {
	addPrefixSpace bool
	re             *regexp2.Regexp // nil unless use_regex
	table          *byteTable
}

func (p *preByteLevel) apply(words []string, _ bool) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		if p.addPrefixSpace && !strings.HasPrefix(w, " ") {
			w = " " + w
		}
		start := len(out)
		if p.re != nil {
			out = splitPieces(w, findAll(p.re, w), splitIsolated, false, out)
		} else {
			out = append(out, w)
		}
		for i := start; i < len(out); i++ {
			out[i] = p.table.encode(out[i])
		}
	}
	return out
}

// preMetaspace replaces spaces by ▁, prepends one, and optionally splits
// before every ▁ (HF Metaspace).
type preMetaspace struct {
	repl   string
	scheme string // "always", "first", "never"
	split  bool
}

func (p *preMetaspace) apply(words []string, atStart bool) []string {
	out := make([]string, 0, len(words))
	for i, w := range words {
		w = strings.ReplaceAll(w, " ", p.repl)
		if !strings.HasPrefix(w, p.repl) && (p.scheme == "always" || (p.scheme == "first" && atStart && i == 0)) {
			w = p.repl + w
		}
		if !p.split {
			out = append(out, w)
			continue
		}
		var ms [][]int
		for off := 0; ; {
			j := strings.Index(w[off:], p.repl)
			if j < 0 {
				break
			}
			ms = append(ms, []int{off + j, off + j + len(p.repl)})
			off += j + len(p.repl)
		}
		out = splitPieces(w, ms, splitMergedWithNext, false, out)
	}
	return out
}

// preDigits splits runs of ASCII digits (or each digit) from the rest.
type preDigits struct{ individual bool }

func (p preDigits) apply(words []string, _ bool) []string {
	behavior := splitContiguous
	if p.individual {
		behavior = splitIsolated
	}
	out := make([]string, 0, len(words))
	for _, w := range words {
		var ms [][]int
		for i := 0; i < len(w); i++ {
			if w[i] >= '0' && w[i] <= '9' {
				ms = append(ms, []int{i, i + 1})
			}
		}
		out = splitPieces(w, ms, behavior, false, out)
	}
	return out
}

func buildPreTokenizer(c *componentJSON, table *byteTable) (preTokenizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var seq preSequence
		for _, sub := range c.Pretokenizers {
			p, err := buildPreTokenizer(sub, table)
			if err != nil {
				return nil, err
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	case "Split":
		b, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, err
		}
		p := &preSplit{behavior: b, invert: c.Invert}
		switch {
		case c.Pattern != nil && c.Pattern.String != nil && *c.Pattern.String != "":
			p.literal = *c.Pattern.String
		case c.Pattern != nil && c.Pattern.Regex != nil:
			if p.re, err = compileRegex(*c.Pattern.Regex); err != nil {
				return nil, fmt.Errorf("pre-tokenizer Split: %w", err)
			}
		default:
			return nil, fmt.Errorf("pre-tokenizer Split without a usable pattern")
		}
		return p, nil
	case "ByteLevel":
		p := &preByteLevel{table: table, addPrefixSpace: c.AddPrefixSpace != nil && *c.AddPrefixSpace}
		if c.UseRegex == nil || *c.UseRegex {
			re, err := compileRegex(gpt2Pattern)
			if err != nil {
				return nil, err
			}
			p.re = re
		}
		return p, nil
	case "Metaspace":
		repl, scheme := metaspaceParams(c)
		return &preMetaspace{repl: repl, scheme: scheme, split: c.Split == nil || *c.Split}, nil
	case "Digits":
		return preDigits{individual: c.IndividualDigits}, nil
	}
	return nil, fmt.Errorf("%w: pre-tokenizer %q", ErrUnsupported, c.Type)
}

// metaspaceParams reads the replacement char and prepend scheme, accepting
// the older add_prefix_space spelling.
func metaspaceParams(c *componentJSON) (repl, scheme string) {
	repl = c.Replacement
	if repl == "" {
		repl = "▁"
	}
	switch {
	case c.PrependScheme != "":
		scheme = c.PrependScheme
	case c.AddPrefixSpace != nil && !*c.AddPrefixSpace:
		scheme = "never"
	default:
		scheme = "always"
	}
	return repl, scheme
}
