package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rbee-go/rbee/worker"
)

// Options tune a Server; zero values take the defaults.
type Options struct {
	Logger       *slog.Logger  // default: discard
	QueueLimit   int           // max waiting requests (default 64); more → 503
	WriteTimeout time.Duration // per event write (default 30s): a client that stops reading is dropped
	MaxBodyBytes int64         // default 1 MiB
	// FreeMemory reports the memory available for a request's KV cache
	// (default MemAvailable); a request that needs more is refused.
	FreeMemory func() (uint64, error)
}

// Server serves one loaded backend.
type Server struct {
	b      *Backend
	opts   Options
	log    *slog.Logger
	queue  fifo
	kv     atomic.Int64    // KV cache bytes of the running generation
	ctx    context.Context // cancelled by CancelAll: ends running and queued jobs
	cancel context.CancelFunc
}

// New returns a server of b.
func New(b *Backend, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.QueueLimit <= 0 {
		opts.QueueLimit = 64
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{b: b, opts: opts, log: opts.Logger, queue: fifo{limit: opts.QueueLimit}, ctx: ctx, cancel: cancel}
}

// Handler returns the worker's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("POST /execute", s.execute)
	return mux
}

// CancelAll ends every running and queued generation (stop_reason CANCELLED)
// and refuses new ones with 503; used on shutdown.
func (s *Server) CancelAll() { s.cancel() }

// Serve serves on ln until ctx is done, then cancels running generations,
// lets their final events go out, and closes (waiting at most grace).
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.CancelAll()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.CancelAll()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	s.drain()
	return err
}

// drain waits until no generation runs (a forward pass can't be interrupted,
// and the caller unmaps the weights next) and keeps the slot for good.
func (s *Server) drain() { _ = s.queue.acquire(context.Background(), nil) }

// Waiting returns the number of queued requests.
func (s *Server) Waiting() int { return s.queue.waiting() }

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, worker.Health{Status: worker.StatusHealthy, VRAMBytes: s.b.Model.WeightBytes(), KVCacheBytes: s.kv.Load()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// check applies the model-dependent limits a bare request can't know.
func (s *Server) check(req worker.ExecuteRequest, prompt []int) error {
	ctxLen := s.b.Model.ContextLength()
	var errs []worker.FieldError
	if len(prompt) >= ctxLen {
		errs = append(errs, worker.FieldError{Field: "prompt", Constraint: "context",
			Message: fmt.Sprintf("prompt is %d tokens; the model's context is %d tokens (prompt and output together)", len(prompt), ctxLen)})
	}
	if req.MaxTokens > ctxLen {
		errs = append(errs, worker.FieldError{Field: "max_tokens", Constraint: "context",
			Message: fmt.Sprintf("max_tokens %d exceeds the model's context of %d tokens", req.MaxTokens, ctxLen)})
	}
	if len(errs) == 0 {
		if fe := s.checkMemory(req, prompt); fe != nil {
			errs = append(errs, *fe)
		}
	}
	if len(errs) > 0 {
		return &worker.ValidationError{Errors: errs}
	}
	return nil
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	var req worker.ExecuteRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		err = worker.Invalid("", "size", "request body larger than %d bytes", tooBig.Limit)
	case err != nil:
		err = worker.Invalid("", "json", "reading the request body: %v", err)
	default:
		req, err = worker.DecodeExecuteRequest(bytes.NewReader(body))
	}
	var prompt []int
	if err == nil {
		prompt = s.b.Tokenizer.Encode(req.Prompt, true)
		err = s.check(req, prompt)
	}
	if err != nil {
		var ve *worker.ValidationError
		if !errors.As(err, &ve) {
			ve = worker.Invalid("", "invalid", "%v", err)
		}
		s.log.Info("rejected request", "job_id", req.JobID, "error", ve.Error())
		writeJSON(w, http.StatusBadRequest, ve)
		return
	}
	if s.ctx.Err() != nil {
		writeJSON(w, http.StatusServiceUnavailable, worker.Invalid("", "shutting-down", "the worker is shutting down"))
		return
	}

	// The job ends when the client goes away or the server shuts down.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()

	rc := http.NewResponseController(w)
	enc := worker.NewEncoder(w)
	headerSent := false
	sendHeader := func() {
		if !headerSent {
			w.Header().Set("Content-Type", worker.ContentTypeSSE)
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("X-Accel-Buffering", "no")
			w.WriteHeader(http.StatusOK)
			headerSent = true
		}
	}
	emit := func(ev worker.Event) error {
		_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		err := enc.Encode(ev)
		if err != nil {
			cancel()
		}
		return err
	}

	err = s.queue.acquire(ctx, func(ahead int) {
		sendHeader()
		_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		_ = enc.Comment(fmt.Sprintf("queued: %d job(s) ahead", ahead))
		s.log.Info("queued", "job_id", req.JobID, "ahead", ahead)
	})
	if errors.Is(err, errQueueFull) {
		writeJSON(w, http.StatusServiceUnavailable, worker.Invalid("", "queue", "%d requests already waiting; retry later", s.opts.QueueLimit))
		return
	}
	if err == nil && ctx.Err() != nil { // got the slot, but shutdown or the client came first
		s.queue.release()
		err = ctx.Err()
	}
	sendHeader()
	startedAt := time.Now().UTC().Format(time.RFC3339Nano)
	if err != nil { // gave up while queued
		if emit(worker.Started(req.JobID, s.b.Name, startedAt)) == nil {
			_ = emit(worker.End(0, 0, worker.StopCancelled, ""))
		}
		s.log.Info("cancelled while queued", "job_id", req.JobID)
		return
	}
	defer s.queue.release()

	s.log.Info("job started", "job_id", req.JobID, "prompt_tokens", len(prompt), "max_tokens", req.MaxTokens,
		"temperature", req.Temperature, "seeded", req.Seed != nil)
	if err := emit(worker.Started(req.JobID, s.b.Name, startedAt)); err != nil {
		s.log.Info("client gone before start", "job_id", req.JobID, "error", err)
		return
	}
	g := &generation{backend: s.b, req: req, prompt: prompt, emit: emit, kv: &s.kv}
	term := g.run(ctx)
	if term.Type == worker.EventEnd {
		s.log.Info("job ended", "job_id", req.JobID, "tokens_out", term.TokensOut, "ms", term.DecodeTimeMS, "stop_reason", term.StopReason)
	} else {
		s.log.Error("job failed", "job_id", req.JobID, "code", term.Code, "message", term.Message)
	}
	if err := emit(term); err != nil && term.StopReason != worker.StopCancelled {
		s.log.Info("client gone before the terminal event", "job_id", req.JobID, "error", err)
	}
}
