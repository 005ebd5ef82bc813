package worker_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
)

// FuzzTokenRoundTrip: any valid text survives encode → SSE → decode, and
// the decoded stream conforms.
func FuzzTokenRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a", "\n\n", "data: x\n\n", "\r\n", "😀", "\u2028\u2029", `"\ud83d"`, "\x00"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, text string, i int) {
		if !utf8.ValidString(text) || i < 0 {
			return // out of domain: the server never emits these; invalid input is covered by TestEventJSONRejects
		}
		var buf bytes.Buffer
		enc := worker.NewEncoder(&buf)
		require.NoError(t, enc.Encode(worker.Started("j", "m", "")))
		for k := 0; k <= i%4; k++ {
			require.NoError(t, enc.Encode(worker.Token(text, k)))
		}
		require.NoError(t, enc.Encode(worker.End(i%4+1, 0, worker.StopEOS, "")))
		evs, err := worker.CheckDecoder("j", worker.NewDecoder(&buf))
		require.NoError(t, err)
		require.Equal(t, text, evs[1].Text)
		require.Equal(t, strings.Repeat(text, i%4+1), worker.Text(evs))
	})
}

// FuzzDecoder: arbitrary bytes never panic the decoder or the checker.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{"data: {}\n\n", ":c\r\ndata: {\"type\":\"token\",\"t\":\"\\ud83d\",\"i\":0}\r\r", "data", "\r\n\r\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = worker.CheckDecoder("", worker.NewDecoder(bytes.NewReader(b)))
	})
}
