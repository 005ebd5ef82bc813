package tokenizer

import (
	"unicode/utf8"
)

// byteTable is GPT-2's reversible byte↔character mapping: printable bytes map
// to themselves, the others to U+0100 onwards, so every byte string becomes a
// printable token string.
type byteTable struct {
	char [256]rune
	back [0x144]int16 // char → byte, -1 if the char is not in the table
}

func newByteTable() *byteTable {
	t := &byteTable{}
	for i := range t.back {
		t.back[i] = -1
	}
	n := rune(0)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		r := rune(b)
		if !printable {
			r = 256 + n
			n++
		}
		t.char[b] = r
		t.back[r] = int16(b)
	}
	return t
}

// encode maps the bytes of s to their table characters.
func (t *byteTable) encode(s string) string {
	buf := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		buf = utf8.AppendRune(buf, t.char[s[i]])
	}
	return string(buf)
}

// decode appends the bytes a byte-level token stands for. A token holding a
// character outside the table (an added token) contributes its own UTF-8
// bytes, as the Hugging Face ByteLevel decoder does.
func (t *byteTable) decode(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		if r >= rune(len(t.back)) || t.back[r] < 0 {
			return append(dst[:start], tok...)
		}
		dst = append(dst, byte(t.back[r]))
	}
	return dst
}
