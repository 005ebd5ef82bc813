// Package membw measures the machine's memory bandwidth the way STREAM's
// triad does (a[i] = b[i] + s*c[i] over arrays far larger than the caches,
// in C, counting 24 bytes per element), for the roofline of decode
// benchmarks: a decode step reads every weight once, so weight bytes per
// token / triad bandwidth is the fastest a token can be.
//
// From a Go benchmark (worker/engine's bench-worker, say):
//
//	r, err := membw.Triad(ctx, membw.Options{Threads: 2})
//	roofline := r.GBps * 1e9 / float64(weightBytes) // tokens per second
//	b.ReportMetric(decodeTokPerSec/roofline, "of-roofline")
//
// Needs cgo (the loop is C, compiled -O3 as STREAM is); without cgo Triad
// returns ErrNoCgo.
package membw

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// ErrNoCgo is returned by Triad in a build without cgo.
var ErrNoCgo = errors.New("membw: the triad needs cgo (CGO_ENABLED=1 and a C compiler)")

// Options size the measurement; zero values take the defaults.
type Options struct {
	Elements int // per array; default 20M doubles (160 MB), over 4x the L3 cache as STREAM asks
	Threads  int // default runtime.NumCPU()
	Rounds   int // default 10; the best round counts, as in STREAM
}

// Result is the best round of the triad.
type Result struct {
	GBps    float64       // 24 bytes per element (2 read, 1 written) over the best round's time
	Best    time.Duration // the best round
	Bytes   int64         // bytes counted per round
	Threads int
}

// Triad runs the STREAM triad and returns its best round.
func Triad(ctx context.Context, o Options) (Result, error) {
	if o.Elements == 0 {
		o.Elements = 20_000_000
	}
	if o.Threads == 0 {
		o.Threads = runtime.NumCPU()
	}
	if o.Rounds == 0 {
		o.Rounds = 10
	}
	if o.Elements < o.Threads || o.Threads < 1 || o.Rounds < 1 {
		return Result{}, fmt.Errorf("membw: need elements >= threads >= 1 and rounds >= 1 (got %d, %d, %d)", o.Elements, o.Threads, o.Rounds)
	}
	if !haveCgo {
		return Result{}, ErrNoCgo
	}
	a, b, c := make([]float64, o.Elements), make([]float64, o.Elements), make([]float64, o.Elements)
	// Untouched pages all read as the one shared zero page, which would
	// flatter the reads: fill b and c first, each thread its own part.
	parallel(o.Threads, o.Elements, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b[i], c[i] = 1, 2
		}
	})
	best := time.Duration(1<<63 - 1)
	for r := 0; r < o.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("membw: %w", err)
		}
		start := time.Now()
		parallel(o.Threads, o.Elements, func(lo, hi int) { triad(a, b, c, 3, lo, hi) })
		best = min(best, time.Since(start))
	}
	if a[o.Elements-1] != 7 {
		return Result{}, fmt.Errorf("membw: triad wrote %v, want 7", a[o.Elements-1])
	}
	bytes := int64(24) * int64(o.Elements)
	return Result{GBps: float64(bytes) / best.Seconds() / 1e9, Best: best, Bytes: bytes, Threads: o.Threads}, nil
}

// parallel runs f on threads contiguous parts of [0, n), each on its own OS
// thread, and waits for all.
func parallel(threads, n int, f func(lo, hi int)) {
	var wg sync.WaitGroup
	for t := range threads {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			f(t*n/threads, (t+1)*n/threads)
		})
	}
	wg.Wait()
}
