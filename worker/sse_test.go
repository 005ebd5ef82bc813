package worker_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
)

func TestEncoderFrames(t *testing.T) {
	var buf bytes.Buffer
	enc := worker.NewEncoder(&buf)
	require.NoError(t, enc.Encode(worker.Token("a\nb", 0)))
	require.NoError(t, enc.Comment("queued\nposition 2"))
	require.NoError(t, enc.Encode(worker.End(1, 3, worker.StopEOS, "")))
	assert.Equal(t, "data: {\"type\":\"token\",\"t\":\"a\\nb\",\"i\":0}\n\n: queued position 2\n\ndata: {\"type\":\"end\",\"tokens_out\":1,\"decode_time_ms\":3,\"prefill_time_ms\":0,\"stop_reason\":\"EOS\"}\n\n", buf.String())

	dec := worker.NewDecoder(&buf)
	ev, err := dec.Next()
	require.NoError(t, err)
	assert.Equal(t, worker.Token("a\nb", 0), ev)
	ev, err = dec.Next()
	require.NoError(t, err)
	assert.Equal(t, worker.End(1, 3, worker.StopEOS, ""), ev)
	_, err = dec.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestDecoderData(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []string
		err    error // after the wanted data
	}{
		{"LF", "data: a\n\ndata: b\n\n", []string{"a", "b"}, io.EOF},
		{"CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"a", "b"}, io.EOF},
		{"CR", "data: a\r\rdata: b\r\r", []string{"a", "b"}, io.EOF},
		{"no space after colon", "data:a\n\n", []string{"a"}, io.EOF},
		{"only one space stripped", "data:  a\n\n", []string{" a"}, io.EOF},
		{"comments and other fields", ": hello\nevent: token\nid: 1\nretry: 10\ndata: a\n\n:bye\n\n", []string{"a"}, io.EOF},
		{"multi-line data", "data: a\ndata: b\n\n", []string{"a\nb"}, io.EOF},
		{"blank lines between events", "\n\n\ndata: a\n\n\n\n", []string{"a"}, io.EOF},
		{"empty data field", "data:\n\n", []string{""}, io.EOF},
		{"cut-off event", "data: a\n\ndata: b", []string{"a"}, io.ErrUnexpectedEOF},
		{"cut-off event with newline", "data: a\n\ndata: b\n", []string{"a"}, io.ErrUnexpectedEOF},
		{"empty stream", "", nil, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := worker.NewDecoder(strings.NewReader(tt.stream))
			var got []string
			var err error
			for {
				var d []byte
				d, err = dec.NextData()
				if err != nil {
					break
				}
				got = append(got, string(d))
			}
			assert.Equal(t, tt.want, got)
			assert.True(t, errors.Is(err, tt.err), "got %v, want %v", err, tt.err)
		})
	}
}

func TestDecoderBadJSON(t *testing.T) {
	dec := worker.NewDecoder(strings.NewReader("data: {nope\n\n"))
	_, err := dec.Next()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "{nope")
}

// A "data: [DONE]" line (later Rust worker eras) ends the stream.
func TestDecoderDone(t *testing.T) {
	d := worker.NewDecoder(strings.NewReader("data: {\"type\":\"narration\",\"actor\":\"x\"}\n\ndata: [DONE]\n\ndata: {\"type\":\"token\",\"t\":\"a\",\"i\":0}\n\n"))
	ev, err := d.Next()
	require.NoError(t, err)
	assert.Equal(t, worker.EventNarration, ev.Type)
	_, err = d.Next()
	assert.ErrorIs(t, err, io.EOF)
}
