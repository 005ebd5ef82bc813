package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/sample"
)

// errEmit marks a failed write to the client: the generation stops as cancelled.
var errEmit = errors.New("client write failed")

// generation is one request's run.
type generation struct {
	backend *Backend
	req     worker.ExecuteRequest
	prompt  []int // prompt ids (with BOS)
	emit    func(worker.Event) error
	kv      *atomic.Int64 // the session's KV cache bytes, for /health (may be nil)
}

// kvSized is a Session that reports its KV cache (the engine's does).
type kvSized interface{ KVCacheBytes() int64 }

func (g *generation) noteKV(sess Session) {
	if ks, ok := sess.(kvSized); ok && g.kv != nil {
		g.kv.Store(ks.KVCacheBytes())
	}
}

// run generates and emits token events, then returns the terminal event
// (not yet emitted). Tokens are emitted as text chunks: an event per sampled
// token that released text; text held back (a partial character, a possible
// stop-string prefix) goes out with a later event.
func (g *generation) run(ctx context.Context) (term worker.Event) {
	// Prefill and decode are timed apart: decode_time_ms starts after the
	// prompt's forward pass.
	start := time.Now()
	var prefill time.Duration
	prefilled := false
	sent := 0
	end := func(reason worker.StopReason, matched string) worker.Event {
		if !prefilled {
			return worker.End(sent, 0, reason, matched).WithPrefillMS(time.Since(start).Milliseconds())
		}
		decode := time.Since(start) - prefill
		return worker.End(sent, decode.Milliseconds(), reason, matched).WithPrefillMS(prefill.Milliseconds())
	}
	emitText := func(text string) error {
		if text == "" {
			return nil
		}
		// The decoder promises whole characters; keep the stream valid regardless.
		if err := g.emit(worker.Token(strings.ToValidUTF8(text, "\uFFFD"), sent)); err != nil {
			return fmt.Errorf("%w: %w", errEmit, err)
		}
		sent++
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			term = worker.Error(worker.CodeInternal, fmt.Sprintf("generation failed: %v", r))
		}
	}()

	if ctx.Err() != nil {
		return end(worker.StopCancelled, "")
	}
	sess := g.backend.Model.NewSession()
	if g.kv != nil {
		defer g.kv.Store(0) // the session's cache is dropped with it
	}
	logits, err := sess.ForwardContext(ctx, g.prompt)
	prefill, prefilled = time.Since(start), true
	g.noteKV(sess)
	if ctx.Err() != nil {
		return end(worker.StopCancelled, "")
	}
	if err != nil {
		return worker.Error(worker.CodeInternal, fmt.Sprintf("prefill of %d tokens: %v", len(g.prompt), err))
	}
	ctxLen := g.backend.Model.ContextLength()
	smp := sample.New(sample.Params{
		Temperature:       g.req.Temperature,
		TopK:              g.req.TopK,
		TopP:              g.req.TopP,
		MinP:              g.req.MinP,
		RepetitionPenalty: g.req.RepetitionPenalty,
	}, g.req.Seed)
	dec := g.backend.Tokenizer.NewStreamDecoder(g.prompt, true)
	stops := newStopMatcher(g.req.Stop)
	seen := slices.Clip(slices.Clone(g.prompt))
	reason := worker.StopMaxTokens

	for n := 0; ; n++ {
		if ctx.Err() != nil {
			return end(worker.StopCancelled, "")
		}
		id := smp.Sample(logits, seen)
		if slices.Contains(g.backend.EOS, id) {
			reason = worker.StopEOS
			break
		}
		seen = append(seen, id)
		out, matched := stops.Push(dec.Push(id))
		if err := emitText(out); err != nil {
			return end(worker.StopCancelled, "")
		}
		if matched != "" {
			return end(worker.StopSequence, matched)
		}
		// Stop at max_tokens, or when the context is full (also MAX_TOKENS:
		// the client asked for more than the model can hold).
		if n+1 >= g.req.MaxTokens || len(seen) >= ctxLen {
			break
		}
		logits, err = sess.ForwardContext(ctx, []int{id})
		g.noteKV(sess)
		if ctx.Err() != nil {
			return end(worker.StopCancelled, "")
		} else if err != nil {
			return worker.Error(worker.CodeInternal, fmt.Sprintf("decode step %d: %v", n+1, err))
		}
	}
	// Release what was held back; a stop string may still complete in it.
	out, matched := stops.Push(dec.Flush())
	if matched == "" {
		out += stops.Flush()
	}
	if err := emitText(out); err != nil {
		return end(worker.StopCancelled, "")
	}
	if matched != "" {
		return end(worker.StopSequence, matched)
	}
	return end(reason, "")
}
