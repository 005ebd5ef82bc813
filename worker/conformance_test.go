package worker_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
)

func TestCheckStream(t *testing.T) {
	st := worker.Started("j1", "m", "2026-01-01T00:00:00Z")
	tok := worker.Token
	tests := []struct {
		name   string
		events []worker.Event
		rule   string // "" = conforming
	}{
		{"tokens then end", []worker.Event{st, tok("a", 0), tok("b", 1), worker.End(2, 1, worker.StopMaxTokens, "")}, ""},
		{"no tokens then end", []worker.Event{st, worker.End(0, 1, worker.StopEOS, "")}, ""},
		{"error terminal", []worker.Event{st, tok("a", 0), worker.Error("INTERNAL", "x")}, ""},
		{"stop sequence", []worker.Event{st, tok("a", 0), worker.End(1, 1, worker.StopSequence, "\n")}, ""},
		{"lone error (the Rust worker's failure)", []worker.Event{worker.Error("INFERENCE_FAILED", "cannot broadcast [5, 5] to [1, 4, 5, 10]")}, ""},
		{"narration and metrics ignored", []worker.Event{{Type: worker.EventNarration}, st, tok("a", 0), {Type: worker.EventMetrics},
			worker.End(1, 1, worker.StopMaxTokens, "")}, ""},
		{"error then started", []worker.Event{worker.Error("X", "y"), st}, worker.RuleOneTerminal},
		{"narration then token", []worker.Event{{Type: worker.EventNarration}, tok("a", 0), worker.End(1, 1, worker.StopEOS, "")}, worker.RuleStartedFirst},
		{"empty", nil, worker.RuleOneTerminal},
		{"token first", []worker.Event{tok("a", 0), worker.End(1, 1, worker.StopEOS, "")}, worker.RuleStartedFirst},
		{"two started", []worker.Event{st, st, worker.End(0, 1, worker.StopEOS, "")}, worker.RuleStartedFirst},
		{"index gap", []worker.Event{st, tok("a", 0), tok("b", 2), worker.End(2, 1, worker.StopEOS, "")}, worker.RuleTokenIndex},
		{"index from 1", []worker.Event{st, tok("a", 1), worker.End(1, 1, worker.StopEOS, "")}, worker.RuleTokenIndex},
		{"index repeat", []worker.Event{st, tok("a", 0), tok("a", 0), worker.End(2, 1, worker.StopEOS, "")}, worker.RuleTokenIndex},
		{"invalid UTF-8", []worker.Event{st, tok("\xf0\x9f", 0), worker.End(1, 1, worker.StopEOS, "")}, worker.RuleUTF8},
		{"no terminal", []worker.Event{st, tok("a", 0)}, worker.RuleOneTerminal},
		{"two terminals", []worker.Event{st, worker.End(0, 1, worker.StopEOS, ""), worker.Error("X", "y")}, worker.RuleOneTerminal},
		{"token after end", []worker.Event{st, worker.End(0, 1, worker.StopEOS, ""), tok("a", 0)}, worker.RuleOneTerminal},
		{"tokens_out too high", []worker.Event{st, tok("a", 0), worker.End(2, 1, worker.StopEOS, "")}, worker.RuleTokensOut},
		{"tokens_out too low", []worker.Event{st, tok("a", 0), worker.End(0, 1, worker.StopEOS, "")}, worker.RuleTokensOut},
		{"unknown stop reason", []worker.Event{st, worker.End(0, 1, "DONE", "")}, worker.RuleEndFields},
		{"negative time", []worker.Event{st, worker.End(0, -1, worker.StopEOS, "")}, worker.RuleEndFields},
		{"matched without STOP_SEQUENCE", []worker.Event{st, worker.End(0, 1, worker.StopEOS, "x")}, worker.RuleEndFields},
		{"error without code", []worker.Event{st, worker.Error("", "x")}, worker.RuleErrorFields},
		{"unknown type", []worker.Event{st, {Type: "progress"}, worker.End(0, 1, worker.StopEOS, "")}, worker.RuleKnownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := worker.CheckStream(tt.events)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			var ce *worker.ConformanceError
			require.True(t, errors.As(err, &ce), "want a ConformanceError, got %v", err)
			assert.Equal(t, tt.rule, ce.Rule, ce.Error())
		})
	}
}

func TestCheckJobID(t *testing.T) {
	evs := []worker.Event{worker.Started("other", "m", ""), worker.End(0, 0, worker.StopEOS, "")}
	var ce *worker.ConformanceError
	require.ErrorAs(t, worker.CheckJob("j1", evs), &ce)
	assert.Equal(t, worker.RuleJobID, ce.Rule)
	assert.NoError(t, worker.CheckJob("other", evs))
}

func TestCheckerStickyError(t *testing.T) {
	c := worker.NewChecker("")
	err := c.Add(worker.Token("a", 0))
	require.Error(t, err)
	assert.Equal(t, err, c.Add(worker.Started("j", "m", "")))
	assert.Equal(t, err, c.Finish())
}

func TestCheckDecoderWire(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		rule   string
		events int
	}{
		{"good", "data: {\"type\":\"started\",\"job_id\":\"j\",\"model\":\"m\",\"started_at\":\"\"}\n\n: c\n\ndata: {\"type\":\"token\",\"t\":\"\\ud83d\\ude00\",\"i\":0}\r\n\r\ndata: {\"type\":\"end\",\"tokens_out\":1,\"decode_time_ms\":1,\"stop_reason\":\"EOS\"}\n\n", "", 3},
		{"lone surrogate", "data: {\"type\":\"started\",\"job_id\":\"j\",\"model\":\"m\",\"started_at\":\"\"}\n\ndata: {\"type\":\"token\",\"t\":\"\\ud83d\",\"i\":0}\n\n", worker.RuleUTF8, 1},
		{"raw bad byte", "data: {\"type\":\"started\",\"job_id\":\"j\",\"model\":\"m\",\"started_at\":\"\"}\n\ndata: {\"type\":\"token\",\"t\":\"\xff\",\"i\":0}\n\n", worker.RuleUTF8, 1},
		{"garbage", "data: {\"type\":\"started\",\"job_id\":\"j\",\"model\":\"m\",\"started_at\":\"\"}\n\ndata: nope\n\n", worker.RuleDecode, 1},
		{"cut", "data: {\"type\":\"started\",\"job_id\":\"j\",\"model\":\"m\",\"started_at\":\"\"}\n\n", worker.RuleOneTerminal, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := worker.CheckDecoder("j", worker.NewDecoder(strings.NewReader(tt.stream)))
			assert.Len(t, evs, tt.events)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			var ce *worker.ConformanceError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.rule, ce.Rule, ce.Error())
		})
	}
}
