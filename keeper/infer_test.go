package keeper_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/worker"
)

// fakeWorker answers /execute with the given events (or status code).
func fakeWorker(t *testing.T, status int, events ...worker.Event) (addr string, got *worker.ExecuteRequest) {
	t.Helper()
	got = &worker.ExecuteRequest{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, json.NewDecoder(r.Body).Decode(got))
		if status != http.StatusOK {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"errors":[{"field":"max_tokens","constraint":"min","message":"too small"}]}`))
			return
		}
		w.Header().Set("Content-Type", worker.ContentTypeSSE)
		enc := worker.NewEncoder(w)
		for _, ev := range events {
			require.NoError(t, enc.Encode(ev))
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), got
}

func TestInfer(t *testing.T) {
	started := worker.Started("j", "tiny-llama", "2026-01-01T00:00:00Z")
	tests := []struct {
		name   string
		status int
		events []worker.Event
		code   keeper.Code
		tokens int
		text   string
	}{
		{"ok", 200, []worker.Event{started, worker.Token("Hel", 0), worker.Token("lo", 1), worker.End(2, 40, worker.StopMaxTokens, "")}, "", 2, "Hello"},
		{"error event", 200, []worker.Event{started, worker.Token("x", 0), worker.Error("INTERNAL", "boom")}, keeper.CodeInferFailed, 1, "x"},
		{"zero tokens", 200, []worker.Event{started, worker.End(0, 1, worker.StopEOS, "")}, keeper.CodeNoTokens, 0, ""},
		{"no terminal event", 200, []worker.Event{started, worker.Token("x", 0)}, keeper.CodeInferFailed, 1, ""},
		{"bad request", 400, nil, keeper.CodeInferFailed, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, got := fakeWorker(t, tt.status, tt.events...)
			var streamed strings.Builder
			res, err := keeper.Infer(context.Background(), keeper.InferRequest{Worker: addr, Prompt: "Hi", MaxTokens: 8, Temperature: 0, Seed: worker.Seed(42)},
				func(s string) { streamed.WriteString(s) })
			assert.Equal(t, tt.code, keeper.CodeOf(err), "%v", err)
			assert.Equal(t, tt.tokens, res.Tokens)
			assert.Equal(t, "Hi", got.Prompt)
			assert.Equal(t, 8, got.MaxTokens)
			assert.Zero(t, got.Temperature)
			require.NotNil(t, got.Seed)
			assert.Equal(t, uint64(42), *got.Seed)
			if tt.code == "" {
				assert.Equal(t, tt.text, res.Text)
				assert.Equal(t, tt.text, streamed.String())
				assert.Equal(t, "tiny-llama", res.Model)
				assert.Equal(t, worker.StopMaxTokens, res.StopReason)
				assert.InDelta(t, 50.0, res.TokensPerSec, 0.01)
			}
		})
	}
}

func TestInferUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	_, err = keeper.Infer(context.Background(), keeper.InferRequest{Worker: addr, Prompt: "x", MaxTokens: 1}, nil)
	require.Equal(t, keeper.CodeWorkerUnreachable, keeper.CodeOf(err), "%v", err)
	var ke *keeper.Error
	require.ErrorAs(t, err, &ke)
	assert.NotEmpty(t, ke.ErrorHint())
}

func TestWorkerURL(t *testing.T) {
	assert.Equal(t, "http://h:8000", keeper.WorkerURL("h:8000"))
	assert.Equal(t, "https://h:8000", keeper.WorkerURL("https://h:8000/"))
}

// The Rust worker's lone error event: infer fails with the worker's message.
func TestInferLoneErrorEvent(t *testing.T) {
	addr, _ := fakeWorker(t, 200, worker.Error("INFERENCE_FAILED", "cannot broadcast [5, 5] to [1, 4, 5, 10]"))
	_, err := keeper.Infer(context.Background(), keeper.InferRequest{Worker: addr, Prompt: "Hi", MaxTokens: 8}, nil)
	assert.Equal(t, keeper.CodeInferFailed, keeper.CodeOf(err))
	assert.EqualError(t, err, "worker "+addr+": INFERENCE_FAILED: cannot broadcast [5, 5] to [1, 4, 5, 10]")
}
