package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFIFOOrderAndCancel(t *testing.T) {
	q := &fifo{limit: 10}
	require.NoError(t, q.acquire(context.Background(), nil))

	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	gaveUp := make(chan error, 1)
	ctxGiveUp, giveUp := context.WithCancel(context.Background())
	for i := range 5 {
		ctx := context.Background()
		if i == 2 {
			ctx = ctxGiveUp
		}
		queued := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := q.acquire(ctx, func(ahead int) {
				assert.Equal(t, i+1, ahead)
				close(queued)
			})
			if i == 2 {
				gaveUp <- err
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			q.release()
		}()
		<-queued // arrival order is i
	}
	giveUp()
	assert.ErrorIs(t, <-gaveUp, context.Canceled)
	assert.Equal(t, 4, q.waiting())
	q.release()
	wg.Wait()
	assert.Equal(t, []int{0, 1, 3, 4}, order)
	assert.Equal(t, 0, q.waiting())
	require.NoError(t, q.acquire(context.Background(), nil), "slot free again")
}

func TestFIFOLimit(t *testing.T) {
	q := &fifo{limit: 1}
	require.NoError(t, q.acquire(context.Background(), nil))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- q.acquire(ctx, nil) }()
	require.Eventually(t, func() bool { return q.waiting() == 1 }, time.Second, time.Millisecond)
	assert.ErrorIs(t, q.acquire(context.Background(), nil), errQueueFull)
	assert.ErrorIs(t, <-done, context.DeadlineExceeded)
}
