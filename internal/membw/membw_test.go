package membw_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/membw"
)

func TestTriad(t *testing.T) {
	// Small arrays: this checks the plumbing and the arithmetic, not the machine.
	r, err := membw.Triad(context.Background(), membw.Options{Elements: 1 << 16, Threads: 2, Rounds: 3})
	require.NoError(t, err)
	assert.Equal(t, int64(24<<16), r.Bytes)
	assert.Equal(t, 2, r.Threads)
	assert.Positive(t, r.Best)
	assert.InDelta(t, float64(r.Bytes)/r.Best.Seconds()/1e9, r.GBps, 1e-9)
}

func TestTriadOptions(t *testing.T) {
	_, err := membw.Triad(context.Background(), membw.Options{Elements: 1, Threads: 2})
	require.Error(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = membw.Triad(ctx, membw.Options{Elements: 1 << 10, Threads: 1})
	require.ErrorIs(t, err, context.Canceled)
}

// BenchmarkTriad reports the machine's STREAM triad bandwidth (the full-size
// default arrays).
func BenchmarkTriad(b *testing.B) {
	for b.Loop() {
		r, err := membw.Triad(context.Background(), membw.Options{Threads: 2})
		require.NoError(b, err)
		b.ReportMetric(r.GBps, "GB/s")
	}
}
