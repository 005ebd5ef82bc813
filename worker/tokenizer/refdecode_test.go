package tokenizer_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// refDecode is a whole-sequence decoder for the two fixture families written
// independently of the package's streaming one: it gathers all bytes first,
// then decodes them at once. Added tokens are literal text; SentencePiece
// tokens map ▁ to a space, <0xNN> to a byte, and the text loses one leading
// space; byte-level tokens map back through GPT-2's byte table.
func refDecode(t testing.TB, tk *tokenizer.Tokenizer, family string, ids []int, skip bool) string {
	t.Helper()
	var table map[rune]byte
	if family == byteLevel {
		table = gpt2Bytes()
	}
	var out strings.Builder
	var pending []byte
	for _, id := range ids {
		tok, ok := tk.Token(id)
		if !ok || (skip && tk.IsSpecial(id)) {
			continue
		}
		isAdded := family == byteLevel && id >= 151643 // the fixture's added tokens follow its base vocab
		switch {
		case family == spm && len(tok) == 6 && strings.HasPrefix(tok, "<0x"):
			var b byte
			for _, c := range tok[3:5] {
				b = b<<4 | byte(strings.IndexRune("0123456789ABCDEF", c))
			}
			pending = append(pending, b)
		case family == spm:
			pending = append(pending, strings.ReplaceAll(tok, "▁", " ")...)
		case isAdded:
			out.WriteString(lossy(pending))
			pending = nil
			out.WriteString(tok)
		default:
			for _, r := range tok {
				b, ok := table[r]
				require.True(t, ok, "token %q", tok)
				pending = append(pending, b)
			}
		}
	}
	out.WriteString(lossy(pending))
	if family == spm {
		return strings.TrimPrefix(out.String(), " ")
	}
	return out.String()
}

// lossy decodes b replacing each maximal invalid subpart with one U+FFFD,
// finding the subpart with utf8.FullRune (a prefix that is not yet a full
// rune can still become one).
func lossy(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			out.Write(b[i : i+size])
			i += size
			continue
		}
		k := 1
		for n := 2; n <= 3 && i+n <= len(b); n++ {
			if !utf8.FullRune(b[i : i+n]) {
				k = n
			}
		}
		out.WriteRune(utf8.RuneError)
		i += k
	}
	return out.String()
}

// gpt2Bytes is GPT-2's bytes_to_unicode, inverted.
func gpt2Bytes() map[rune]byte {
	m := map[rune]byte{}
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[rune(b)] = byte(b)
		} else {
			m[rune(256+n)] = byte(b)
			n++
		}
	}
	return m
}
