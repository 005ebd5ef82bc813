package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/realmodel"
)

// generation is one /execute call as the cell saw it.
type generation struct {
	tokens     []string
	firstToken time.Duration
	// decode is tokens/s: the lower of the client's first-to-last-token rate
	// and the worker's tokens_out / generation time. Tiny models decode in
	// microseconds, so events often arrive in bursts and the client's rate
	// alone can be absurd; the worker's is decode only (prefill apart).
	decode  float64
	prefill time.Duration // the worker's prefill_time_ms
	wall    time.Duration
	// buffered: every token came in one burst with the terminal event.
	buffered bool
}

// execute runs the request twice: both streams must conform and the
// greedy, seeded outputs must be identical.
func (r *cell) execute(ctx context.Context, client *worker.Client) error {
	var gens [2]generation
	for i := range gens {
		g, err := generate(ctx, client, r.m.request(fmt.Sprintf("matrix-%s-%s-%d", r.p.Name, r.m.ID, i+1)))
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		gens[i] = g
		r.generateMs += g.wall.Milliseconds()
	}
	if len(gens[0].tokens) == 0 {
		return errors.New("no token generated")
	}
	if !slices.Equal(gens[0].tokens, gens[1].tokens) {
		return fmt.Errorf("not deterministic at temperature 0, seed %d: %q then %q", Seed,
			strings.Join(gens[0].tokens, ""), strings.Join(gens[1].tokens, ""))
	}
	r.c.Tokens = len(gens[0].tokens)
	r.c.Prompt, r.c.Text = r.m.request("").Prompt, strings.Join(gens[0].tokens, "")
	if err := r.m.Reference.check(r.c.Text); err != nil {
		return err
	}
	r.c.FirstTokenMs = gens[0].firstToken.Milliseconds()
	if r.c.Buffered = gens[0].buffered || gens[1].buffered; r.c.Buffered {
		r.c.FirstTokenMs = 0 // the time of the whole stream, not of a first token
	}
	r.c.DecodeTokS = gens[1].decode // the warm run
	r.c.PrefillMs = gens[1].prefill.Milliseconds()
	return nil
}

// request is the cell's greedy request: the model's reference prompt, or
// the common one.
func (m Model) request(jobID string) worker.ExecuteRequest {
	prompt, n := Prompt, MaxTokens
	if m.Reference != nil {
		prompt, n = m.Reference.Prompt, m.Reference.MaxTokens
	}
	req := worker.NewExecuteRequest(jobID, prompt, n)
	req.Temperature, req.Seed = 0, worker.Seed(Seed)
	return req
}

// check fails unless text is exactly the reference (nil: no reference),
// saying where it first differs.
func (ref *Reference) check(text string) error {
	if ref == nil {
		return nil
	}
	if d := realmodel.Diff(text, ref.Text); d != "" {
		return fmt.Errorf("not %s: %s", ref.Source, d)
	}
	return nil
}

// generate streams one request through the conformance checker.
func generate(ctx context.Context, client *worker.Client, req worker.ExecuteRequest) (generation, error) {
	var g generation
	jobID := req.JobID
	start := time.Now()
	st, err := client.Execute(ctx, req)
	if err != nil {
		return g, err
	}
	defer st.Close()
	check := worker.NewChecker(jobID)
	var first, last time.Time
	var tokenAt []time.Time
	for {
		ev, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, worker.ErrNoTerminalEvent) {
			return g, &worker.ConformanceError{Rule: worker.RuleOneTerminal, Index: -1, Msg: err.Error()}
		}
		if err != nil {
			return g, err
		}
		if err := check.Add(ev); err != nil {
			return g, err
		}
		switch ev.Type {
		case worker.EventToken:
			last = time.Now()
			tokenAt = append(tokenAt, last)
			if first.IsZero() {
				first, g.firstToken = last, last.Sub(start)
			}
			g.tokens = append(g.tokens, ev.Text)
		case worker.EventError:
			return g, fmt.Errorf("worker error %s: %s", ev.Code, ev.Message)
		case worker.EventEnd:
			g.prefill = time.Duration(ev.PrefillTimeMS) * time.Millisecond
			g.buffered = isBuffered(tokenAt, time.Now(), ev.DecodeTimeMS)
			if ev.DecodeTimeMS > 0 {
				g.decode = float64(ev.TokensOut) * 1000 / float64(ev.DecodeTimeMS)
			}
		}
	}
	if err := check.Finish(); err != nil {
		return g, err
	}
	g.wall = time.Since(start)
	if n := len(g.tokens); n > 1 && last.After(first) {
		client := float64(n-1) / last.Sub(first).Seconds()
		if g.decode == 0 || client < g.decode {
			g.decode = client
		}
	}
	return g, nil
}
