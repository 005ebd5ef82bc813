package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/rbee-go/rbee/worker"
)

// callbackServer is the short-lived listener on 127.0.0.1 that receives
// the ready callback of one spawn.
type callbackServer struct {
	ln    net.Listener
	srv   *http.Server
	ready chan worker.ReadyCallback
}

func startCallbackServer(workerID string) (*callbackServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting ready-callback listener: %w", err)
	}
	cs := &callbackServer{ln: ln, ready: make(chan worker.ReadyCallback, 1)}
	cs.srv = &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/ready" {
				http.Error(w, "POST /ready is the only route", http.StatusNotFound)
				return
			}
			var cb worker.ReadyCallback
			if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&cb); err != nil {
				http.Error(w, "bad ready callback: "+err.Error(), http.StatusBadRequest)
				return
			}
			if cb.WorkerID != workerID {
				http.Error(w, fmt.Sprintf("callback for worker %q, this spawn is %q", cb.WorkerID, workerID), http.StatusConflict)
				return
			}
			// The Rust worker exits when this reply is cut: it must be on
			// the wire before Spawn can move on (and close this server).
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"status":"ok"}`)
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			select {
			case cs.ready <- cb:
			default: // a repeated callback changes nothing
			}
		}),
	}
	go cs.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on close
	return cs, nil
}

// URL is the --callback-url handed to the worker.
func (cs *callbackServer) URL() string { return "http://" + cs.ln.Addr().String() + "/ready" }

// Close shuts the server down gracefully: a callback reply in flight is
// finished, not cut.
func (cs *callbackServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if cs.srv.Shutdown(ctx) != nil {
		cs.srv.Close()
	}
}

// healthClient answers whether a worker is healthy (the worker protocol
// client with its own transport).
type healthClient struct{ http *http.Client }

func newHealthClient() *healthClient {
	// No keep-alive: each probe is a fresh connection to a process that may
	// just have (re)started; a pooled one to a dead worker helps nobody.
	return &healthClient{http: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
}

// healthy GETs base/health and reports whether it answered 200 with status healthy.
func (h *healthClient) healthy(ctx context.Context, base string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := worker.NewClient(base)
	c.HTTP = h.http
	hl, err := c.Health(ctx)
	return err == nil && hl.Status == worker.StatusHealthy
}

// pollHealth probes base/health with a short backoff until healthy and
// owned(ctx) confirms the answer came from the spawned worker (sends on ch),
// or ctx ends. The backoff caps at 10 ms so that, without a callback, Spawn
// still returns within ~10 ms of the worker being healthy; a refused
// connect to a loading worker costs next to nothing.
func (h *healthClient) pollHealth(ctx context.Context, base string, owned func(context.Context) bool, ch chan<- struct{}) {
	delay := 2 * time.Millisecond
	for {
		if h.healthy(ctx, base, 2*time.Second) && owned(ctx) {
			select {
			case ch <- struct{}{}:
			default:
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Millisecond)
	}
}

// localURI is how this host reaches a worker on port.
func localURI(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }

// awaitServing waits, after the ready callback, until pid listens on port
// and /health answers there. It returns "" then, else why not; an exit
// status read from exited is put back for the reaper.
func awaitServing(ctx context.Context, id string, pid, port int, wait time.Duration, exited chan error, deadline <-chan time.Time) (reason string, cause error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	serving := make(chan struct{}, 1)
	owned := func(ctx context.Context) bool { return listensOn(ctx, pid, port) }
	go newHealthClient().pollHealth(ctx, localURI(port), owned, serving)
	select {
	case <-serving:
		return "", nil
	case err := <-exited:
		exited <- err
		return fmt.Sprintf("%s exited after its ready callback (%s)", id, exitStatus(err)), nil
	case <-deadline:
		return fmt.Sprintf("%s sent its ready callback but did not serve /health on port %d within %s", id, port, wait), nil
	case <-ctx.Done():
		return "spawn cancelled before " + id + " became ready", ctx.Err()
	}
}

// exitStatus words a process's exit for a startup failure.
func exitStatus(err error) string {
	if err != nil {
		return err.Error()
	}
	return "exit status 0"
}
