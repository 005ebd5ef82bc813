package worker

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Conformance rules of DESIGN §5, named in ConformanceError.Rule.
const (
	RuleStartedFirst = "started-first" // the first event is started (or a lone error), and only the first
	RuleTokenIndex   = "token-index"   // token indices are 0,1,2… with no gap
	RuleUTF8         = "utf8"          // every "t" is valid UTF-8
	RuleOneTerminal  = "one-terminal"  // exactly one end/error event, and it is last
	RuleTokensOut    = "tokens-out"    // end.tokens_out equals the tokens sent
	RuleEndFields    = "end-fields"    // a known stop_reason, decode_time_ms >= 0, matched only with STOP_SEQUENCE
	RuleErrorFields  = "error-fields"  // an error event has a code
	RuleKnownType    = "known-type"    // every event has a protocol type
	RuleJobID        = "job-id"        // started.job_id echoes the request
	RuleDecode       = "decode"        // the stream itself decodes
)

// ConformanceError is a stream that breaks a protocol rule.
type ConformanceError struct {
	Rule  string
	Index int // position of the offending event in the stream (-1: the stream as a whole)
	Msg   string
}

func (e *ConformanceError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("stream conformance (%s): %s", e.Rule, e.Msg)
	}
	return fmt.Sprintf("stream conformance (%s) at event %d: %s", e.Rule, e.Index, e.Msg)
}

// Checker checks a stream event by event (Add) and at its end (Finish).
// The first violation sticks: later calls return it again.
type Checker struct {
	JobID string // if set, started.job_id must equal it

	n        int // events seen
	protocol int // events other than metrics/narration
	tokens   int
	started  bool
	terminal bool
	err      error
}

// NewChecker returns a checker; jobID may be "" to skip the job-id rule.
func NewChecker(jobID string) *Checker { return &Checker{JobID: jobID} }

func (c *Checker) fail(rule string, idx int, format string, args ...any) error {
	c.err = &ConformanceError{Rule: rule, Index: idx, Msg: fmt.Sprintf(format, args...)}
	return c.err
}

// Add checks the next event.
func (c *Checker) Add(ev Event) error {
	if c.err != nil {
		return c.err
	}
	idx := c.n
	c.n++
	if c.terminal {
		return c.fail(RuleOneTerminal, idx, "%s event after the terminal event", ev.Type)
	}
	if ev.Type == EventMetrics || ev.Type == EventNarration {
		return nil // informational: allowed anywhere before the end, ignored
	}
	c.protocol++
	// A lone error event (no started before it) is a valid, failed stream.
	if c.protocol == 1 && ev.Type != EventStarted && ev.Type != EventError {
		return c.fail(RuleStartedFirst, idx, "first event is %q, want started", ev.Type)
	}
	switch ev.Type {
	case EventStarted:
		if c.started {
			return c.fail(RuleStartedFirst, idx, "a second started event")
		}
		c.started = true
		if c.JobID != "" && ev.JobID != c.JobID {
			return c.fail(RuleJobID, idx, "started.job_id %q, want %q", ev.JobID, c.JobID)
		}
	case EventToken:
		if ev.Index != c.tokens {
			return c.fail(RuleTokenIndex, idx, "token index %d, want %d", ev.Index, c.tokens)
		}
		if !utf8.ValidString(ev.Text) {
			return c.fail(RuleUTF8, idx, "token %d text %q is not valid UTF-8", ev.Index, ev.Text)
		}
		c.tokens++
	case EventEnd:
		c.terminal = true
		if ev.TokensOut != c.tokens {
			return c.fail(RuleTokensOut, idx, "end.tokens_out %d, but %d token events were sent", ev.TokensOut, c.tokens)
		}
		if !ev.StopReason.Valid() {
			return c.fail(RuleEndFields, idx, "unknown stop_reason %q", ev.StopReason)
		}
		if ev.DecodeTimeMS < 0 {
			return c.fail(RuleEndFields, idx, "negative decode_time_ms %d", ev.DecodeTimeMS)
		}
		if ev.StopSequenceMatched != "" && ev.StopReason != StopSequence {
			return c.fail(RuleEndFields, idx, "stop_sequence_matched %q with stop_reason %s", ev.StopSequenceMatched, ev.StopReason)
		}
	case EventError:
		c.terminal = true
		if ev.Code == "" {
			return c.fail(RuleErrorFields, idx, "error event without a code (message %q)", ev.Message)
		}
	default:
		return c.fail(RuleKnownType, idx, "unknown event type %q", ev.Type)
	}
	return nil
}

// Finish checks that the stream ended properly.
func (c *Checker) Finish() error {
	if c.err != nil {
		return c.err
	}
	if !c.terminal {
		return c.fail(RuleOneTerminal, -1, "stream ended after %d events without an end or error event", c.n)
	}
	return nil
}

// Tokens returns the number of token events seen.
func (c *Checker) Tokens() int { return c.tokens }

// CheckStream checks a complete stream.
func CheckStream(events []Event) error {
	return CheckJob("", events)
}

// CheckJob checks a complete stream of the job jobID.
func CheckJob(jobID string, events []Event) error {
	c := NewChecker(jobID)
	for _, ev := range events {
		if err := c.Add(ev); err != nil {
			return err
		}
	}
	return c.Finish()
}

// CheckDecoder reads and checks a whole SSE stream, so wire-level faults
// (invalid UTF-8 bytes, lone surrogate escapes, malformed events) are caught
// too; it returns the events read.
func CheckDecoder(jobID string, d *Decoder) ([]Event, error) {
	c := NewChecker(jobID)
	var evs []Event
	for {
		ev, err := d.Next()
		if errors.Is(err, io.EOF) {
			return evs, c.Finish()
		}
		if err != nil {
			rule := RuleDecode
			if errors.Is(err, ErrInvalidUTF8) {
				rule = RuleUTF8
			}
			return evs, &ConformanceError{Rule: rule, Index: len(evs), Msg: err.Error()}
		}
		evs = append(evs, ev)
		if err := c.Add(ev); err != nil {
			return evs, err
		}
	}
}
