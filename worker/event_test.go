package worker_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
)

func TestEventJSON(t *testing.T) {
	tests := []struct {
		name string
		ev   worker.Event
		wire string
	}{
		{"started", worker.Started("j1", "tiny-llama", "2026-01-02T03:04:05Z"), `{"type":"started","job_id":"j1","model":"tiny-llama","started_at":"2026-01-02T03:04:05Z"}`},
		{"token", worker.Token("héllo", 3), `{"type":"token","t":"héllo","i":3}`},
		{"empty token 0", worker.Token("", 0), `{"type":"token","t":"","i":0}`},
		{"end", worker.End(5, 120, worker.StopMaxTokens, ""), `{"type":"end","tokens_out":5,"decode_time_ms":120,"prefill_time_ms":0,"stop_reason":"MAX_TOKENS"}`},
		{"end prefill", worker.End(5, 120, worker.StopEOS, "").WithPrefillMS(33), `{"type":"end","tokens_out":5,"decode_time_ms":120,"prefill_time_ms":33,"stop_reason":"EOS"}`},
		{"end stop", worker.End(2, 7, worker.StopSequence, "\n\n"), `{"type":"end","tokens_out":2,"decode_time_ms":7,"prefill_time_ms":0,"stop_reason":"STOP_SEQUENCE","stop_sequence_matched":"\n\n"}`},
		{"error", worker.Error(worker.CodeInternal, "boom"), `{"type":"error","code":"INTERNAL","message":"boom"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.ev)
			require.NoError(t, err)
			assert.JSONEq(t, tt.wire, string(b))
			var back worker.Event
			require.NoError(t, json.Unmarshal([]byte(tt.wire), &back))
			assert.Equal(t, tt.ev, back)
		})
	}
}

func TestEventJSONRejects(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want error
	}{
		{"no type", `{"t":"x","i":0}`, worker.ErrMalformedEvent},
		{"token without i", `{"type":"token","t":"x"}`, worker.ErrMalformedEvent},
		{"token without t", `{"type":"token","i":0}`, worker.ErrMalformedEvent},
		{"end without tokens_out", `{"type":"end","stop_reason":"EOS"}`, worker.ErrMalformedEvent},
		{"lone high surrogate", `{"type":"token","t":"a\ud83d","i":0}`, worker.ErrInvalidUTF8},
		{"lone low surrogate", `{"type":"token","t":"\ude00b","i":0}`, worker.ErrInvalidUTF8},
		{"high then other escape", `{"type":"token","t":"\ud83d\n","i":0}`, worker.ErrInvalidUTF8},
		{"raw invalid byte", "{\"type\":\"token\",\"t\":\"a\xf0\x9f\",\"i\":0}", worker.ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev worker.Event
			err := json.Unmarshal([]byte(tt.wire), &ev)
			assert.True(t, errors.Is(err, tt.want), "got %v", err)
		})
	}

	// A paired surrogate escape is a valid character.
	var ev worker.Event
	require.NoError(t, json.Unmarshal([]byte(`{"type":"token","t":"\ud83d\ude00 \\u","i":1}`), &ev))
	assert.Equal(t, "😀 \\u", ev.Text)

	// Unknown types decode (the checker rejects them), so newer workers don't break old clients.
	require.NoError(t, json.Unmarshal([]byte(`{"type":"progress","x":1}`), &ev))
	assert.Equal(t, worker.EventType("progress"), ev.Type)
	_, err := json.Marshal(ev)
	assert.Error(t, err)
}
