package rustworker

import (
	"fmt"
	"slices"
	"time"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/sample"
)

// Error codes of the seed worker's error event.
const (
	CodeInferenceFailed = "INFERENCE_FAILED"
	CodeTokenError      = "TOKEN_ERROR"
	CodeGenerationError = "GENERATION_ERROR"
)

// Request is /execute's body after validation.
type Request struct {
	JobID       string
	Prompt      string
	MaxTokens   int
	Temperature float64
	Seed        uint64
	TopP        float64
	TopK        int
}

// session returns the KV cache a request runs on: a fresh one, except for
// the architectures whose cache the seed worker never resets.
func (m *Model) session() *engine.Session {
	if !cacheNeverReset(m.Arch) {
		return m.engine.NewSession()
	}
	if m.persisted == nil {
		m.persisted = m.engine.NewSession()
	}
	return m.persisted
}

// forward runs tokens on s, failing as candle does when a prompt of more
// than one token meets a cache that already holds positions: the causal
// mask is built for the prompt alone and cannot broadcast over the
// attention scores of prompt × (cache + prompt).
func (m *Model) forward(s *engine.Session, tokens []int) ([]float32, error) {
	if n, c := len(tokens), s.Len(); n > 1 && c > 0 {
		return nil, fmt.Errorf("cannot broadcast [%d, %d] to [1, %d, %d, %d]", n, n, m.heads, n, n+c)
	}
	return s.Forward(tokens)
}

// WarmUp is the GPU builds' warm-up forward pass after loading.
func (m *Model) WarmUp() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.forward(m.session(), m.tok.Encode("Hello", true))
	return err
}

// Generate runs one request to the end and returns its events, all at once
// (the seed worker buffers the whole stream): started, tokens, end with
// stop_reason MAX_TOKENS even when it stopped on EOS; or a lone error event.
func (m *Model) Generate(req Request) []worker.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	start := time.Now()
	prompt := m.tok.Encode(req.Prompt, true)
	if len(prompt) == 0 {
		return []worker.Event{worker.Error(CodeTokenError, "prompt encodes to no tokens")}
	}
	s := m.session()
	logits, err := m.forward(s, prompt)
	if err != nil {
		return []worker.Event{worker.Error(CodeInferenceFailed, err.Error())}
	}
	seed := req.Seed
	smp := sample.New(sample.Params{Temperature: req.Temperature, TopK: req.TopK, TopP: req.TopP, RepetitionPenalty: 1}, &seed)
	dec := m.tok.NewStreamDecoderAfter(prompt, true)
	seen := slices.Clone(prompt)
	events := []worker.Event{worker.Started(req.JobID, "model", "0")}
	n := 0
	emit := func(text string) {
		if text != "" {
			events = append(events, worker.Token(text, n))
			n++
		}
	}
	for i := 0; i < req.MaxTokens; i++ {
		id := smp.Sample(logits, seen)
		if slices.Contains(m.eos, id) {
			break
		}
		seen = append(seen, id)
		emit(dec.Push(id))
		if i+1 >= req.MaxTokens {
			break
		}
		if logits, err = m.forward(s, []int{id}); err != nil {
			return []worker.Event{worker.Error(CodeGenerationError, err.Error())}
		}
	}
	emit(dec.Flush())
	return append(events, worker.End(n, time.Since(start).Milliseconds(), worker.StopMaxTokens, ""))
}
