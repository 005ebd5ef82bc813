package worker_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
)

// fakeWorker answers /execute with a canned body per job id.
func fakeWorker(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"status":"healthy","vram_bytes":1234}`)
	})
	mux.HandleFunc("POST /execute", func(w http.ResponseWriter, r *http.Request) {
		req, err := worker.DecodeExecuteRequest(r.Body)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"errors":[{"field":"max_tokens","constraint":"min","message":"max_tokens must be at least 1, got 0"}]}`)
			return
		}
		switch req.JobID {
		case "busy":
			http.Error(w, "queue full", http.StatusServiceUnavailable)
			return
		case "html":
			_, _ = io.WriteString(w, "<html>")
			return
		}
		w.Header().Set("Content-Type", worker.ContentTypeSSE)
		enc := worker.NewEncoder(w)
		_ = enc.Encode(worker.Started(req.JobID, "m", time.Now().UTC().Format(time.RFC3339)))
		_ = enc.Encode(worker.Token("Hel", 0))
		_ = enc.Encode(worker.Token("lo", 1))
		switch req.JobID {
		case "cut":
			return
		case "hang":
			<-r.Context().Done()
			return
		}
		_ = enc.Encode(worker.End(2, 5, worker.StopMaxTokens, ""))
		_ = enc.Encode(worker.Token("after end", 2)) // a client stops at the terminal event
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestClientHealth(t *testing.T) {
	srv := fakeWorker(t)
	h, err := worker.NewClient(srv.URL + "/").Health(context.Background())
	require.NoError(t, err)
	assert.Equal(t, worker.Health{Status: "healthy", VRAMBytes: 1234}, h)

	_, err = worker.NewClient(srv.URL + "/nope").Health(context.Background())
	var se *worker.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusNotFound, se.StatusCode)
}

func TestClientRun(t *testing.T) {
	srv := fakeWorker(t)
	c := worker.NewClient(srv.URL)
	evs, err := c.Run(context.Background(), worker.NewExecuteRequest("ok", "hi", 2))
	require.NoError(t, err)
	require.Len(t, evs, 4)
	assert.Equal(t, "Hello", worker.Text(evs))
	require.NoError(t, worker.CheckJob("ok", evs))
}

func TestClientErrors(t *testing.T) {
	srv := fakeWorker(t)
	c := worker.NewClient(srv.URL)
	ctx := context.Background()

	t.Run("400 field errors", func(t *testing.T) {
		_, err := c.Execute(ctx, worker.NewExecuteRequest("j", "hi", 0))
		var se *worker.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusBadRequest, se.StatusCode)
		var ve *worker.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "max_tokens", ve.Errors[0].Field)
		assert.Contains(t, err.Error(), "max_tokens must be at least 1")
	})
	t.Run("503 plain text", func(t *testing.T) {
		_, err := c.Execute(ctx, worker.NewExecuteRequest("busy", "hi", 1))
		var se *worker.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
		assert.Nil(t, se.Validation)
		assert.Contains(t, err.Error(), "queue full")
	})
	t.Run("not an event stream", func(t *testing.T) {
		_, err := c.Execute(ctx, worker.NewExecuteRequest("html", "hi", 1))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "content type")
	})
	t.Run("stream cut before terminal", func(t *testing.T) {
		evs, err := c.Run(ctx, worker.NewExecuteRequest("cut", "hi", 1))
		assert.True(t, errors.Is(err, worker.ErrNoTerminalEvent), "got %v", err)
		assert.Len(t, evs, 3)
	})
	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := c.Run(ctx, worker.NewExecuteRequest("hang", "hi", 1))
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("connection refused", func(t *testing.T) {
		_, err := worker.NewClient("http://127.0.0.1:1").Execute(ctx, worker.NewExecuteRequest("j", "hi", 1))
		require.Error(t, err)
	})
}

func TestStreamNextAfterTerminal(t *testing.T) {
	srv := fakeWorker(t)
	st, err := worker.NewClient(srv.URL).Execute(context.Background(), worker.NewExecuteRequest("ok", "hi", 2))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	var types []worker.EventType
	for {
		ev, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		types = append(types, ev.Type)
	}
	assert.Equal(t, []worker.EventType{worker.EventStarted, worker.EventToken, worker.EventToken, worker.EventEnd}, types)
}

// A custom dialer carries every request (the keeper's SSH tunnel), streams
// included; the base URL's host is only what the dialer is asked for.
func TestClientWithDialer(t *testing.T) {
	srv := fakeWorker(t)
	var mu sync.Mutex
	var asked []string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		asked = append(asked, addr)
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	c := worker.NewClient("http://worker.invalid:8000/", worker.WithDialer(dial))
	h, err := c.Health(context.Background())
	require.NoError(t, err)
	assert.Equal(t, worker.StatusHealthy, h.Status)
	evs, err := c.Run(context.Background(), worker.NewExecuteRequest("j", "hi", 2))
	require.NoError(t, err)
	assert.Equal(t, "Hello", worker.Text(evs))
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, asked)
	assert.Equal(t, "worker.invalid:8000", asked[0])

	direct := worker.NewClient("http://worker.invalid:8000")
	_, err = direct.Health(context.Background())
	require.Error(t, err, "without the dialer the name does not resolve")
}

func TestClientWithHTTPClient(t *testing.T) {
	srv := fakeWorker(t)
	hc := &http.Client{}
	c := worker.NewClient(srv.URL, worker.WithHTTPClient(hc))
	assert.Same(t, hc, c.HTTP)
	_, err := c.Health(context.Background())
	require.NoError(t, err)
}
