package server_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/server"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// A request whose KV cache would not fit in the memory available is refused
// with a clear 400 before any allocation; one that fits runs.
func TestRequestRefusedWhenItsKVCacheDoesNotFit(t *testing.T) {
	b := loadTiny(t, tinymodel.Llama)
	cfg := b.Model.(interface{ Config() engine.Config }).Config()
	prompt := b.Tokenizer.Encode("Once upon a time", true)
	const maxTokens = 16
	need := cfg.KVBytes(len(prompt) + maxTokens)
	require.Equal(t, int64(len(prompt)+maxTokens)*int64(cfg.Layers*cfg.KVHeads*cfg.HeadDim)*2*4, need)

	tests := []struct {
		name  string
		free  uint64
		fits  bool
		probe error
	}{
		{"fits exactly", uint64(need), true, nil},
		{"one byte short", uint64(need) - 1, false, nil},
		{"memory unknown", 0, true, errors.New("no /proc/meminfo")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := start(t, b, server.Options{FreeMemory: func() (uint64, error) { return tt.free, tt.probe }})
			st, err := c.Execute(context.Background(), greedy("kv", "Once upon a time", maxTokens))
			if tt.fits {
				require.NoError(t, err)
				for {
					ev, err := st.Next()
					require.NoError(t, err)
					if ev.Type == worker.EventEnd {
						break
					}
				}
				return
			}
			var se *worker.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, http.StatusBadRequest, se.StatusCode)
			require.NotNil(t, se.Validation)
			assert.Equal(t, "memory", se.Validation.Errors[0].Constraint)
			assert.Contains(t, se.Validation.Errors[0].Message, "of KV cache; only")
		})
	}
}

func TestMemAvailable(t *testing.T) {
	n, err := server.MemAvailable()
	require.NoError(t, err)
	assert.Greater(t, n, uint64(1<<20), "this Linux host has more than 1 MiB available")
}
