// Package server is the HTTP side of the Go llm-worker-rbee: GET /health and
// POST /execute (DESIGN §5), one generation at a time in FIFO order, each
// with a fresh model session, streamed as SSE. It is written against the
// small interfaces below so the generation loop is testable with fakes; Load
// wires the real engine and tokenizer.
package server

import "context"

// Session is one request's decoding state: its own KV cache, so no request
// can see another's (the original worker's cache-pollution bug).
type Session interface {
	// ForwardContext appends tokens and returns the logits of the last
	// position; a done ctx stops it between layers (a long prefill of a
	// client that went away) and leaves the session unchanged.
	ForwardContext(ctx context.Context, tokens []int) ([]float32, error)
}

// Model makes sessions.
type Model interface {
	NewSession() Session
	ContextLength() int // max positions (prompt + generated)
	WeightBytes() int64 // reported as vram_bytes
}

// Tokenizer turns text into ids and ids back into text, incrementally.
type Tokenizer interface {
	Encode(text string, addSpecial bool) []int
	// NewStreamDecoder continues after context (the prompt's ids), so the
	// first generated token keeps the leading space a SentencePiece decoder
	// strips only at the start of a sequence.
	NewStreamDecoder(context []int, skipSpecial bool) StreamDecoder
}

// StreamDecoder returns only complete UTF-8 text per pushed id.
type StreamDecoder interface {
	Push(id int) string
	Flush() string
}

// Backend is a loaded model with its tokenizer.
type Backend struct {
	Name      string // reported as "model" in the started event
	Model     Model
	Tokenizer Tokenizer
	EOS       []int // generation stops on any of these ids
	Close     func() error
}
