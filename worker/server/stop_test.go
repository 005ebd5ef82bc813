package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStopMatcher(t *testing.T) {
	tests := []struct {
		name    string
		stops   []string
		pushes  []string
		outs    []string // out per push
		matched string   // of the last push
		flush   string
	}{
		{"no stops passes through", nil, []string{"a", "b\n"}, []string{"a", "b\n"}, "", ""},
		{"match inside one push", []string{"\n\n"}, []string{"ab\n\ncd"}, []string{"ab"}, "\n\n", ""},
		{"match spanning pushes", []string{"\n\n"}, []string{"ab\n", "\ncd"}, []string{"ab", ""}, "\n\n", ""},
		{"prefix held then released", []string{"\n\n"}, []string{"ab\n", "c"}, []string{"ab", "\nc"}, "", ""},
		{"prefix held to the end", []string{"END"}, []string{"xE", "N"}, []string{"x", ""}, "", "EN"},
		{"longest possible prefix held", []string{"abab"}, []string{"aba"}, []string{""}, "", "aba"},
		{"earliest stop wins", []string{"cd", "b"}, []string{"abcd"}, []string{"a"}, "b", ""},
		{"multibyte stop", []string{"é!"}, []string{"caf", "é", "!x"}, []string{"caf", "", ""}, "é!", ""},
		{"stop equal to the text", []string{"stop"}, []string{"st", "op"}, []string{"", ""}, "stop", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newStopMatcher(tt.stops)
			var matched string
			for i, p := range tt.pushes {
				var out string
				out, matched = m.Push(p)
				assert.Equal(t, tt.outs[i], out, "push %d", i)
			}
			assert.Equal(t, tt.matched, matched)
			assert.Equal(t, tt.flush, m.Flush())
		})
	}
}
