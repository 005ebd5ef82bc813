package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool runs data-parallel work on a fixed set of goroutines that live as
// long as the pool, so a matrix product costs one wake-up per worker instead
// of a goroutine per row. The calling goroutine works too. Calls are
// serialised: sessions sharing a model take turns per operation.
//
// Work is a queue of chunks taken with an atomic counter, and a call ends
// when every chunk is done — not when every worker has checked in. On a
// machine shared with other jobs a worker may be descheduled for a whole
// time slice; the caller then does its share instead of waiting for it.
type Pool struct {
	mu      sync.Mutex
	n       int
	wake    []chan *task
	closed  bool
	scratch []float32 // permuted activations for BF16 products (guarded by mu)
	chunks  []chunk   // work queue of MatMuls (guarded by mu)
	// quantized activations for Q8_0/Q4_0 and K-quant products (guarded by mu)
	qscratch [2][]byte
	sscratch []uint16 // activations in BF16 parts (guarded by mu)
	c        cpool    // C threads for the matrix products (cgo builds)
}

// task is one parallel call: items [0,total) in chunks of grain.
type task struct {
	fn           func(worker, lo, hi int)
	total, grain int64
	next, done   atomic.Int64
	finished     chan struct{} // closed when done reaches total
}

// work takes chunks until none are left.
func (t *task) work(w int) {
	for {
		lo := t.next.Add(t.grain) - t.grain
		if lo >= t.total {
			return
		}
		hi := min(lo+t.grain, t.total)
		t.fn(w, int(lo), int(hi))
		if t.done.Add(hi-lo) == t.total {
			close(t.finished)
		}
	}
}

// NewPool starts a pool of n workers (n <= 0: runtime.NumCPU()).
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	p := &Pool{n: n, wake: make([]chan *task, n), c: newCPool(n - 1)}
	for w := 1; w < n; w++ {
		// One slot: a worker that has not yet picked up an earlier task is
		// skipped rather than waited for (it finds that task drained).
		ch := make(chan *task, 1)
		p.wake[w] = ch
		go func() {
			for t := range ch {
				t.work(w)
			}
		}()
	}
	return p
}

// Workers returns the number of workers, the caller included.
func (p *Pool) Workers() int { return p.n }

// Close stops the workers; the pool must not be used afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.c.close()
	p.c = cpool{} // MatMuls then falls to forChunks, which panics
	for _, ch := range p.wake[1:] {
		close(ch)
	}
}

// forChunks splits [0,total) into chunks of grain handed out dynamically
// and returns when all are done; p.mu held. fn must not retain lo..hi
// state beyond its return: a late worker may still run a drained task.
func (p *Pool) forChunks(total, grain int, fn func(worker, lo, hi int)) {
	if total <= 0 {
		return
	}
	if total <= grain || p.n == 1 {
		fn(0, 0, total)
		return
	}
	if p.closed {
		panic("kernels: pool used after Close")
	}
	t := &task{fn: fn, total: int64(total), grain: int64(grain), finished: make(chan struct{})}
	for _, ch := range p.wake[1:] {
		select {
		case ch <- t:
		default: // still busy with (or not yet woken for) an earlier task
		}
	}
	t.work(0)
	<-t.finished
}

// For runs fn over [0,total) in chunks of grain across the workers.
func (p *Pool) For(total, grain int, fn func(worker, lo, hi int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forChunks(total, max(grain, 1), fn)
}
