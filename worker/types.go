// Package worker is the llm-worker-rbee wire protocol (DESIGN §5): the
// request and event types, request validation, the SSE codec, an HTTP client
// and a stream conformance checker. The keeper, the hive, the matrix and the
// features reuse it; the Go worker (worker/server) speaks it.
//
// Stream semantics of the Go worker, beyond DESIGN §5: a token event carries
// the text that a sampled token completed; tokens whose text is held back
// (part of a UTF-8 character, or text that may begin a stop string) add to a
// later event, so token events never split a character and tokens_out counts
// the token events sent. decode_time_ms is the wall time of decoding only
// (sampling and the forward passes after the prompt's), prefill_time_ms that
// of the prompt's forward pass (queue wait in neither). A generation that fills the
// model's context ends with MAX_TOKENS. Queued requests get the 200 header
// and an SSE comment (": queued: N job(s) ahead") at once, and their started
// event when they run.
package worker

// Version is the version of the Go llm-worker-rbee and its protocol package.
const Version = "0.1.0"

// Request defaults of DESIGN §5, applied to fields a request leaves out.
const (
	DefaultTemperature       = 1.0
	DefaultTopP              = 1.0
	DefaultTopK              = 0
	DefaultRepetitionPenalty = 1.0
	DefaultMinP              = 0.0

	// MaxTokensLimit bounds max_tokens at the protocol level; a worker may
	// bound it further by its model's context length.
	MaxTokensLimit = 32768
	// MaxStopSequences and MaxStopBytes bound the stop list.
	MaxStopSequences = 16
	MaxStopBytes     = 256
)

// ExecuteRequest is the body of POST /execute.
type ExecuteRequest struct {
	JobID             string   `json:"job_id"`
	Prompt            string   `json:"prompt"`
	MaxTokens         int      `json:"max_tokens"`
	Temperature       float64  `json:"temperature"`
	Seed              *uint64  `json:"seed,omitempty"`
	TopP              float64  `json:"top_p"`
	TopK              int      `json:"top_k"`
	RepetitionPenalty float64  `json:"repetition_penalty"`
	Stop              []string `json:"stop"`
	MinP              float64  `json:"min_p"`
}

// NewExecuteRequest returns a request with the protocol defaults set.
func NewExecuteRequest(jobID, prompt string, maxTokens int) ExecuteRequest {
	return ExecuteRequest{
		JobID:             jobID,
		Prompt:            prompt,
		MaxTokens:         maxTokens,
		Temperature:       DefaultTemperature,
		TopP:              DefaultTopP,
		TopK:              DefaultTopK,
		RepetitionPenalty: DefaultRepetitionPenalty,
		Stop:              []string{},
		MinP:              DefaultMinP,
	}
}

// Seed returns a pointer to s, for ExecuteRequest.Seed literals.
func Seed(s uint64) *uint64 { return &s }

// EventType names an SSE event of /execute.
type EventType string

// Event types.
const (
	EventStarted EventType = "started"
	EventToken   EventType = "token"
	EventEnd     EventType = "end"
	EventError   EventType = "error"
	// Events of later Rust worker eras: defined there, carry nothing the
	// suite needs, and are allowed and ignored in a stream.
	EventMetrics   EventType = "metrics"
	EventNarration EventType = "narration"
)

// StopReason says why a generation ended.
type StopReason string

// Stop reasons of the end event.
const (
	StopMaxTokens StopReason = "MAX_TOKENS"
	StopEOS       StopReason = "EOS"
	StopSequence  StopReason = "STOP_SEQUENCE"
	StopCancelled StopReason = "CANCELLED"
	StopError     StopReason = "ERROR"
)

// Valid reports whether r is one of the protocol's stop reasons.
func (r StopReason) Valid() bool {
	switch r {
	case StopMaxTokens, StopEOS, StopSequence, StopCancelled, StopError:
		return true
	}
	return false
}

// Error codes of the error event.
const (
	CodeInternal        = "INTERNAL"
	CodeContextExceeded = "CONTEXT_EXCEEDED"
	CodeShuttingDown    = "SHUTTING_DOWN"
)

// Event is one SSE event of /execute. Only the fields of its Type are
// meaningful and marshalled (see MarshalJSON).
type Event struct {
	Type EventType

	// started
	JobID     string
	Model     string
	StartedAt string // RFC 3339 UTC

	// token
	Text  string // "t"
	Index int    // "i"

	// end
	TokensOut           int
	DecodeTimeMS        int64
	PrefillTimeMS       int64 // "prefill_time_ms" (an rbee extension)
	StopReason          StopReason
	StopSequenceMatched string

	// error
	Code    string
	Message string
}

// Started, Token, End and Error build events of each type.
func Started(jobID, model, startedAt string) Event {
	return Event{Type: EventStarted, JobID: jobID, Model: model, StartedAt: startedAt}
}

// Token builds a token event.
func Token(text string, index int) Event { return Event{Type: EventToken, Text: text, Index: index} }

// End builds an end event; matched is the stop string for STOP_SEQUENCE.
func End(tokensOut int, decodeMS int64, reason StopReason, matched string) Event {
	return Event{Type: EventEnd, TokensOut: tokensOut, DecodeTimeMS: decodeMS, StopReason: reason, StopSequenceMatched: matched}
}

// WithPrefillMS returns the end event e with its prefill time set.
func (e Event) WithPrefillMS(ms int64) Event {
	e.PrefillTimeMS = ms
	return e
}

// Error builds an error event.
func Error(code, message string) Event { return Event{Type: EventError, Code: code, Message: message} }

// Terminal reports whether e ends a stream (end or error).
func (e Event) Terminal() bool { return e.Type == EventEnd || e.Type == EventError }

// ReadyCallback is POSTed to --callback-url once the worker serves.
type ReadyCallback struct {
	WorkerID  string `json:"worker_id"`
	VRAMBytes int64  `json:"vram_bytes"`
	URI       string `json:"uri"`
}

// Health is the body of GET /health.
type Health struct {
	Status    string `json:"status"`
	VRAMBytes int64  `json:"vram_bytes"`
	// KVCacheBytes is the KV cache held now (the running generation's; it
	// grows with the sequence, 0 when idle).
	KVCacheBytes int64 `json:"kv_cache_bytes"`
}

// StatusHealthy is Health.Status of a serving worker.
const StatusHealthy = "healthy"
