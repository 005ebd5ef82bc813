package server

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// errQueueFull is returned when too many requests wait.
var errQueueFull = errors.New("queue full")

// fifo lets one generation run at a time and hands the slot to waiters in
// arrival order (a sync.Mutex makes no such promise).
type fifo struct {
	mu      sync.Mutex
	busy    bool
	waiters []chan struct{} // closed when the slot is handed over
	limit   int             // max waiters
}

// acquire takes the slot, waiting in line; onQueued is called (outside the
// lock) with the number of jobs ahead when it has to wait.
func (q *fifo) acquire(ctx context.Context, onQueued func(ahead int)) error {
	q.mu.Lock()
	if !q.busy {
		q.busy = true
		q.mu.Unlock()
		return nil
	}
	if len(q.waiters) >= q.limit {
		q.mu.Unlock()
		return errQueueFull
	}
	ch := make(chan struct{})
	q.waiters = append(q.waiters, ch)
	ahead := len(q.waiters)
	q.mu.Unlock()
	if onQueued != nil {
		onQueued(ahead)
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		if i := slices.Index(q.waiters, ch); i >= 0 {
			q.waiters = slices.Delete(q.waiters, i, i+1)
			q.mu.Unlock()
			return ctx.Err()
		}
		q.mu.Unlock()
		q.release() // handed over while we gave up: pass it on
		return ctx.Err()
	}
}

// release hands the slot to the next waiter or frees it.
func (q *fifo) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiters) > 0 {
		ch := q.waiters[0]
		q.waiters = q.waiters[1:]
		close(ch)
		return
	}
	q.busy = false
}

// waiting returns the number of queued jobs.
func (q *fifo) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiters)
}
