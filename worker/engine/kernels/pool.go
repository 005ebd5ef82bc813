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
type Pool struct {
	mu      sync.Mutex
	n       int
	wake    []chan func(worker int)
	done    sync.WaitGroup
	closed  bool
	scratch []float32 // permuted activations for BF16 products (guarded by mu)
	chunks  []chunk   // work queue of MatMuls (guarded by mu)
}

// NewPool starts a pool of n workers (n <= 0: runtime.NumCPU()).
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	p := &Pool{n: n, wake: make([]chan func(int), n)}
	for w := 1; w < n; w++ {
		ch := make(chan func(int))
		p.wake[w] = ch
		go func() {
			for fn := range ch {
				fn(w)
				p.done.Done()
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
	for _, ch := range p.wake[1:] {
		close(ch)
	}
}

// run calls fn(worker) on every worker concurrently and waits; p.mu held.
func (p *Pool) run(fn func(worker int)) {
	if p.closed {
		panic("kernels: pool used after Close")
	}
	p.done.Add(p.n - 1)
	for _, ch := range p.wake[1:] {
		ch <- fn
	}
	fn(0)
	p.done.Wait()
}

// forChunks splits [0,total) into chunks of grain handed out dynamically, so
// a worker slowed by another process on a shared machine takes fewer.
func (p *Pool) forChunks(total, grain int, fn func(worker, lo, hi int)) {
	if total <= grain || p.n == 1 {
		fn(0, 0, total)
		return
	}
	var next atomic.Int64
	p.run(func(w int) {
		for {
			lo := int(next.Add(int64(grain))) - grain
			if lo >= total {
				return
			}
			fn(w, lo, min(lo+grain, total))
		}
	})
}

// For runs fn over [0,total) in chunks of grain across the workers.
func (p *Pool) For(total, grain int, fn func(worker, lo, hi int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forChunks(total, max(grain, 1), fn)
}
