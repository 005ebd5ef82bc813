package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Wire shapes of each event type; MarshalJSON picks one so an event carries
// exactly the fields of its type (a token always has "t" and "i", even "" and 0).
type (
	startedJSON struct {
		Type      EventType `json:"type"`
		JobID     string    `json:"job_id"`
		Model     string    `json:"model"`
		StartedAt string    `json:"started_at"`
	}
	tokenJSON struct {
		Type  EventType `json:"type"`
		Text  string    `json:"t"`
		Index int       `json:"i"`
	}
	endJSON struct {
		Type                EventType  `json:"type"`
		TokensOut           int        `json:"tokens_out"`
		DecodeTimeMS        int64      `json:"decode_time_ms"`
		PrefillTimeMS       int64      `json:"prefill_time_ms"`
		StopReason          StopReason `json:"stop_reason"`
		StopSequenceMatched string     `json:"stop_sequence_matched,omitempty"`
	}
	errorJSON struct {
		Type    EventType `json:"type"`
		Code    string    `json:"code"`
		Message string    `json:"message"`
	}
	// anyJSON decodes every type; pointers tell a missing field from a zero one.
	anyJSON struct {
		Type                EventType       `json:"type"`
		JobID               string          `json:"job_id"`
		Model               string          `json:"model"`
		StartedAt           string          `json:"started_at"`
		Text                json.RawMessage `json:"t"`
		Index               *int            `json:"i"`
		TokensOut           *int            `json:"tokens_out"`
		DecodeTimeMS        int64           `json:"decode_time_ms"`
		PrefillTimeMS       int64           `json:"prefill_time_ms"`
		StopReason          *StopReason     `json:"stop_reason"`
		StopSequenceMatched string          `json:"stop_sequence_matched"`
		Code                string          `json:"code"`
		Message             string          `json:"message"`
	}
)

// ErrInvalidUTF8 marks a token whose text is not valid UTF-8 on the wire
// (raw bytes, or a lone UTF-16 surrogate escape such as "\ud83d") — a worker
// that split a character across tokens. Go's JSON decoder would silently
// turn both into U+FFFD, so the check runs on the raw JSON.
var ErrInvalidUTF8 = errors.New("token text is not valid UTF-8")

// ErrMalformedEvent marks an event whose JSON lacks a field its type requires.
var ErrMalformedEvent = errors.New("malformed event")

// MarshalJSON writes the wire shape of e's type.
func (e Event) MarshalJSON() ([]byte, error) {
	switch e.Type {
	case EventStarted:
		return json.Marshal(startedJSON{e.Type, e.JobID, e.Model, e.StartedAt})
	case EventToken:
		return json.Marshal(tokenJSON{e.Type, e.Text, e.Index})
	case EventEnd:
		return json.Marshal(endJSON{e.Type, e.TokensOut, e.DecodeTimeMS, e.PrefillTimeMS, e.StopReason, e.StopSequenceMatched})
	case EventError:
		return json.Marshal(errorJSON{e.Type, e.Code, e.Message})
	}
	return nil, fmt.Errorf("marshal event: unknown type %q", e.Type)
}

// UnmarshalJSON reads any event. Unknown types decode with only Type set (the
// conformance checker rejects them); known types missing a required field
// ("t"/"i" of token, "tokens_out"/"stop_reason" of end) are ErrMalformedEvent.
func (e *Event) UnmarshalJSON(b []byte) error {
	var a anyJSON
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*e = Event{Type: a.Type}
	switch a.Type {
	case EventStarted:
		e.JobID, e.Model, e.StartedAt = a.JobID, a.Model, a.StartedAt
	case EventToken:
		if a.Text == nil || a.Index == nil {
			return fmt.Errorf("%w: token event needs \"t\" and \"i\"", ErrMalformedEvent)
		}
		if !validJSONText(a.Text) {
			return fmt.Errorf("%w: token %d: %s", ErrInvalidUTF8, *a.Index, a.Text)
		}
		if err := json.Unmarshal(a.Text, &e.Text); err != nil {
			return fmt.Errorf("%w: token \"t\": %w", ErrMalformedEvent, err)
		}
		e.Index = *a.Index
	case EventEnd:
		if a.TokensOut == nil || a.StopReason == nil {
			return fmt.Errorf("%w: end event needs \"tokens_out\" and \"stop_reason\"", ErrMalformedEvent)
		}
		e.TokensOut, e.DecodeTimeMS, e.StopReason, e.StopSequenceMatched = *a.TokensOut, a.DecodeTimeMS, *a.StopReason, a.StopSequenceMatched
		e.PrefillTimeMS = a.PrefillTimeMS
	case EventError:
		e.Code, e.Message = a.Code, a.Message
	case "":
		return fmt.Errorf("%w: no \"type\"", ErrMalformedEvent)
	}
	return nil
}

// validJSONText reports whether a raw JSON string literal is valid UTF-8 with
// every \u surrogate escape paired.
func validJSONText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	pendingHigh := false
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			if pendingHigh {
				return false
			}
			continue
		}
		if raw[i+1] != 'u' || i+6 > len(raw) {
			if pendingHigh {
				return false
			}
			i++ // skip the escaped character
			continue
		}
		v, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		if err != nil {
			return false
		}
		switch {
		case v >= 0xD800 && v <= 0xDBFF:
			if pendingHigh {
				return false
			}
			pendingHigh = true
		case v >= 0xDC00 && v <= 0xDFFF:
			if !pendingHigh {
				return false
			}
			pendingHigh = false
		default:
			if pendingHigh {
				return false
			}
		}
		i += 5
	}
	return !pendingHigh
}
