package server

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// BenchmarkStreaming measures what HTTP + SSE + the client add to a
// generation: the generation loop with a no-op emit against the same request
// through the server and worker.Client. Tiny llama, greedy,
// 64 tokens: per-token compute is tiny, so this is the worst case for the
// overhead ratio. Reports tokens/s.
func BenchmarkStreaming(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "tiny-llama")
	if err := tinymodel.Generate(dir, tinymodel.Llama, tinymodel.DefaultSeed); err != nil {
		b.Fatal(err)
	}
	be, err := Load(dir, LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = be.Close() })
	req := worker.NewExecuteRequest("bench", "The quick brown fox jumps over the lazy dog", 64)
	req.Temperature = 0

	srv := New(be, Options{})
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	c := worker.NewClient(ts.URL)
	prompt := be.Tokenizer.Encode(req.Prompt, true)

	// Loop and HTTP runs alternate so machine load hits both alike.
	var loopTime, httpTime time.Duration
	var loopTokens, httpTokens int
	for b.Loop() {
		t0 := time.Now()
		g := &generation{backend: be, req: req, prompt: prompt, emit: func(worker.Event) error { return nil }}
		loopTokens += g.run(context.Background()).TokensOut
		t1 := time.Now()
		evs, err := c.Run(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		httpTime += time.Since(t1)
		loopTime += t1.Sub(t0)
		httpTokens += evs[len(evs)-1].TokensOut
	}
	if loopTokens != httpTokens {
		b.Fatalf("loop made %d tokens, http %d", loopTokens, httpTokens)
	}
	loopRate := float64(loopTokens) / loopTime.Seconds()
	httpRate := float64(httpTokens) / httpTime.Seconds()
	b.ReportMetric(loopRate, "loop-tokens/s")
	b.ReportMetric(httpRate, "http-tokens/s")
	b.ReportMetric(httpRate/loopRate, "http/loop")
}
