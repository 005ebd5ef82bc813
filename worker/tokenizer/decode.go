package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// decoderSpec is a tokenizer.json decoder chain reduced to what streaming
// needs. Supported chains: ByteLevel; and [Metaspace] [Replace…] [ByteFallback]
// [Fuse] [Strip] in that order (the SentencePiece-style chains).
//
// Bytes of byte-fallback runs and byte-level tokens are decoded alike: each
// character as soon as its last byte arrives, one U+FFFD per maximal invalid
// subpart (Unicode's recommended practice, as TextDecoder and Rust's
// from_utf8_lossy do; transformers.js decodes ByteFallback runs this way).
// The Rust ByteFallback decoder instead turns a whole run into one U+FFFD per
// byte if any byte is bad, which would force a stream to hold every run of
// byte tokens (a sentence of rare CJK characters) until it ends. Valid text
// decodes identically either way.
type decoderSpec struct {
	byteLevel    bool
	byteFallback bool
	replace      []replacer // literal, applied to each non-byte token
	metaspace    string     // replacement char of a Metaspace decoder, "" if none
	metaDropLead bool       // Metaspace: the first token loses its replacement chars
	stripStart   int        // leading stripChar chars removed from the whole text
	stripChar    rune
}

func buildDecoder(c *componentJSON) (decoderSpec, error) {
	var spec decoderSpec
	if c == nil {
		return spec, fmt.Errorf("%w: tokenizer.json has no decoder", ErrUnsupported)
	}
	chain := []*componentJSON{c}
	if c.Type == "Sequence" {
		chain = c.Decoders
	}
	fused := false
	for i, d := range chain {
		switch d.Type {
		case "ByteLevel":
			if len(chain) != 1 {
				return spec, fmt.Errorf("%w: ByteLevel decoder combined with others", ErrUnsupported)
			}
			spec.byteLevel = true
		case "Metaspace":
			if i != 0 {
				return spec, fmt.Errorf("%w: Metaspace decoder not first in the chain", ErrUnsupported)
			}
			repl, scheme := metaspaceParams(d)
			spec.metaspace, spec.metaDropLead = repl, scheme != "never"
		case "Replace":
			if spec.byteFallback || fused || d.Pattern == nil || d.Pattern.String == nil {
				return spec, fmt.Errorf("%w: Replace decoder must be a String pattern before ByteFallback/Fuse", ErrUnsupported)
			}
			r, err := newReplacer(d.Pattern, d.Content)
			if err != nil {
				return spec, fmt.Errorf("decoder: %w", err)
			}
			spec.replace = append(spec.replace, r)
		case "ByteFallback":
			if fused {
				return spec, fmt.Errorf("%w: ByteFallback decoder after Fuse", ErrUnsupported)
			}
			spec.byteFallback = true
		case "Fuse":
			fused = true
		case "Strip":
			// Only the whole-text form: after Fuse, stripping the start.
			content := []rune(d.Content)
			if !fused || d.Stop != 0 || len(content) != 1 {
				return spec, fmt.Errorf("%w: Strip decoder other than leading strip after Fuse", ErrUnsupported)
			}
			spec.stripStart, spec.stripChar = d.Start, content[0]
		default:
			return spec, fmt.Errorf("%w: decoder %q", ErrUnsupported, d.Type)
		}
	}
	return spec, nil
}

// StreamDecoder turns token ids into text one at a time. It emits only
// complete UTF-8 characters and the concatenation of everything it returns
// (Push… then Flush) equals Tokenizer.Decode of the same ids. One stream
// per goroutine; the Tokenizer itself is shared.
type StreamDecoder struct {
	t         *Tokenizer
	skip      bool
	pending   []byte // bytes of an incomplete character
	count     int    // tokens passed to the decoder chain so far
	stripLeft int
	out       []byte
}

// NewStreamDecoder starts a stream; skipSpecial drops special tokens.
func (t *Tokenizer) NewStreamDecoder(skipSpecial bool) *StreamDecoder {
	return &StreamDecoder{t: t, skip: skipSpecial, stripLeft: t.dec.stripStart}
}

// NewStreamDecoderAfter starts a stream that continues the text of context
// (typically the prompt's ids), which is consumed but not returned. The
// SentencePiece decoders drop the space at the start of a sequence; for
// generated tokens that follow a prompt that space is real text
// ("is" + "▁Paris" → "is Paris"), and this keeps it:
// Decode(context) + stream output == Decode(context + generated) whenever
// context ends on a whole character.
func (t *Tokenizer) NewStreamDecoderAfter(context []int, skipSpecial bool) *StreamDecoder {
	d := t.NewStreamDecoder(skipSpecial)
	for _, id := range context {
		d.Push(id)
	}
	return d
}

// Push adds one token and returns the text it completes (possibly "").
// Unknown ids are ignored, as by the Hugging Face decoder.
func (d *StreamDecoder) Push(id int) string {
	tok, added, ok := d.t.idToken(id)
	if !ok || (d.skip && added != nil && added.special) {
		return ""
	}
	spec := &d.t.dec
	first := d.count == 0
	d.count++
	out := d.out[:0]
	switch {
	case spec.byteLevel && added != nil:
		// Added tokens are text, not byte-level characters.
		out = d.flushBytes(out)
		out = append(out, tok...)
	case spec.byteLevel:
		d.pending = d.t.table.decode(d.pending, tok)
		out = d.settle(out)
	default:
		if spec.byteFallback {
			if b, ok := parseByteToken(tok); ok {
				d.pending = append(d.pending, b)
				out = d.settle(out)
				break
			}
		}
		out = d.flushBytes(out)
		if spec.metaspace != "" {
			with := " "
			if first && spec.metaDropLead {
				with = ""
			}
			tok = strings.ReplaceAll(tok, spec.metaspace, with)
		}
		for _, r := range spec.replace {
			tok = r.replace(tok)
		}
		out = append(out, tok...)
	}
	d.out = out
	return d.strip(out)
}

// Flush returns what is held back at the end of the stream: an incomplete
// byte sequence becomes U+FFFD.
func (d *StreamDecoder) Flush() string {
	d.out = d.flushBytes(d.out[:0])
	return d.strip(d.out)
}

// settle decodes the pending bytes up to a trailing incomplete character.
func (d *StreamDecoder) settle(out []byte) []byte {
	out, n := appendLossy(out, d.pending, false)
	d.pending = d.pending[:copy(d.pending, d.pending[n:])]
	return out
}

// flushBytes decodes all pending bytes; an incomplete character becomes U+FFFD.
func (d *StreamDecoder) flushBytes(out []byte) []byte {
	out, _ = appendLossy(out, d.pending, true)
	d.pending = d.pending[:0]
	return out
}

// strip applies the Strip decoder to the start of the whole text.
func (d *StreamDecoder) strip(out []byte) string {
	i := 0
	for d.stripLeft > 0 && i < len(out) {
		r, size := utf8.DecodeRune(out[i:])
		if r != d.t.dec.stripChar {
			d.stripLeft = 0
			break
		}
		i += size
		d.stripLeft--
	}
	return string(out[i:])
}

// parseByteToken reads a byte-fallback token "<0xNN>".
func parseByteToken(tok string) (byte, bool) {
	if len(tok) != 6 || tok[:3] != "<0x" || tok[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexVal(tok[3])
	lo, ok2 := hexVal(tok[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// appendLossy decodes b into out, replacing each maximal invalid subpart by
// one U+FFFD like Rust's from_utf8_lossy and the WHATWG decoder (Go's utf8
// package replaces byte by byte, which gives different text). Unless final,
// it stops before a trailing incomplete sequence and returns how many bytes
// it consumed.
func appendLossy(out, b []byte, final bool) ([]byte, int) {
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
			out = append(out, b[i:i+size]...)
			i += size
			continue
		}
		n, lo, hi := seqShape(b[i])
		k := 1
		if n > 1 && i+1 < len(b) && b[i+1] >= lo && b[i+1] <= hi {
			k = 2
			for k < n && i+k < len(b) && b[i+k] >= 0x80 && b[i+k] <= 0xBF {
				k++
			}
		}
		if !final && n > 1 && k < n && i+k == len(b) {
			return out, i // a character still in progress
		}
		out = append(out, "\uFFFD"...)
		i += k
	}
	return out, i
}

// seqShape gives the length of the UTF-8 sequence a lead byte starts and the
// allowed range of its second byte; n is 1 for bytes that cannot lead.
func seqShape(c byte) (n int, lo, hi byte) {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return 2, 0x80, 0xBF
	case c == 0xE0:
		return 3, 0xA0, 0xBF
	case c == 0xED:
		return 3, 0x80, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		return 3, 0x80, 0xBF
	case c == 0xF0:
		return 4, 0x90, 0xBF
	case c >= 0xF1 && c <= 0xF3:
		return 4, 0x80, 0xBF
	case c == 0xF4:
		return 4, 0x80, 0x8F
	}
	return 1, 0, 0
}
