package realmodel

import (
	"fmt"
	"unicode/utf8"
)

// diffContext is how many bytes of text a difference report shows around
// it: short, so the report fits a table cell with the place first.
const diffContext = 12

// Diff says where got first differs from the reference text want, with a
// little text around it; "" when they are equal.
func Diff(got, want string) string {
	if got == want {
		return ""
	}
	i := 0 // whole characters, so the report never splits one
	for i < len(got) && i < len(want) {
		g, n := utf8.DecodeRuneInString(got[i:])
		if w, m := utf8.DecodeRuneInString(want[i:]); g != w || n != m {
			break
		}
		i += n
	}
	switch {
	case i == len(got):
		return fmt.Sprintf("ends at byte %d of %d: missing %q (after %q)", i, len(want), head(want, i), tail(got, i))
	case i == len(want):
		return fmt.Sprintf("goes on after the %d-byte reference: extra %q", len(want), head(got, i))
	}
	return fmt.Sprintf("differs at byte %d: got %q, want %q (after %q)", i, head(got, i), head(want, i), tail(got, i))
}

// tail is up to diffContext bytes of s before i; head up to diffContext from i.
func tail(s string, i int) string { return s[max(0, i-diffContext):i] }
func head(s string, i int) string { return s[i:min(len(s), i+diffContext)] }
