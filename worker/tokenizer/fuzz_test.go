package tokenizer_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// Encode → Decode gives the text back (NFC-normalized for the byte-level
// family). Seeds run as a unit test; `go test -fuzz FuzzRoundTrip` explores.
func FuzzRoundTrip(f *testing.F) {
	for _, e := range getFixture(f, spm).encodings {
		f.Add(e.Text)
	}
	f.Add("a\xffb\xf0\x9f")
	f.Add("<|im_start|>x\u0301<|im_end|>")
	spmTok, blTok := load(f, spm), load(f, byteLevel)
	f.Fuzz(func(t *testing.T, s string) {
		valid := strings.ToValidUTF8(s, "\uFFFD")
		if got := blTok.Decode(blTok.Encode(s, false), false); got != norm.NFC.String(valid) {
			t.Fatalf("byte-level: %q → %q", s, got)
		}
		// SPM: ▁ in the text decodes as a space, and every text section
		// after an added token gains the legacy leading ▁.
		if strings.Contains(valid, "▁") || strings.Contains(valid, "<s>") || strings.Contains(valid, "</s>") || strings.Contains(valid, "<unk>") {
			return
		}
		if got := spmTok.Decode(spmTok.Encode(s, false), false); got != valid {
			t.Fatalf("spm: %q → %q", s, got)
		}
	})
}

// Any id sequence streams to the reference decoder's text (refDecode), in
// valid UTF-8 pieces, and Decode agrees. Ids are two bytes each; a clear top
// bit keeps them below 300, where byte tokens and specials are.
func FuzzStreamMatchesDecode(f *testing.F) {
	f.Add([]byte{0, 3, 0, 243, 0, 162, 0, 148, 1, 0})
	f.Add([]byte{0xff, 0xff, 0, 1, 0, 2, 0x59, 0x34})
	f.Add([]byte{0, 240, 0, 159, 0x85, 0x10, 0, 145, 0, 139})
	toks := map[string]*tokenizer.Tokenizer{spm: load(f, spm), byteLevel: load(f, byteLevel)}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fam := range families {
			tk := toks[fam]
			var ids []int
			for i := 0; i+1 < len(data); i += 2 {
				id := int(data[i])<<8 | int(data[i+1])
				if data[i]&0x80 != 0 {
					id = id * 7 % tk.VocabSize()
				} else {
					id %= 300
				}
				ids = append(ids, id)
			}
			if fam == byteLevel {
				// Also the added tokens at the top of the vocab.
				for i, id := range ids {
					if id%5 == 0 {
						ids[i] = 151643 + id%26
					}
				}
			}
			for _, skip := range []bool{false, true} {
				want := refDecode(t, tk, fam, ids, skip)
				d := tk.NewStreamDecoder(skip)
				var b strings.Builder
				for _, id := range ids {
					s := d.Push(id)
					if !utf8.ValidString(s) {
						t.Fatalf("%s: Push(%d) = %q", fam, id, s)
					}
					b.WriteString(s)
				}
				b.WriteString(d.Flush())
				if b.String() != want {
					t.Fatalf("%s skip=%v %v: stream %q, reference %q", fam, skip, ids, b.String(), want)
				}
				if got := tk.Decode(ids, skip); got != want {
					t.Fatalf("%s skip=%v %v: Decode %q, reference %q", fam, skip, ids, got, want)
				}
			}
		}
	})
}
