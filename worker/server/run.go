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
	"net/url"
	"runtime"
	"strconv"
	"time"

	"github.com/rbee-go/rbee/worker"
)

// BackendError is a --backend this worker cannot serve.
type BackendError struct{ Backend string }

func (e *BackendError) Error() string {
	return fmt.Sprintf("backend %q is not supported by the Go worker", e.Backend)
}

// ErrListen marks a failure to open the worker's port.
var ErrListen = errors.New("cannot listen")

// BackendCPU is the only backend of the Go worker.
const BackendCPU = "cpu"

// RunConfig is the worker's command line (DESIGN §5) as a value.
type RunConfig struct {
	WorkerID    string
	ModelPath   string
	Host        string // bind address; "" = 127.0.0.1
	Port        int    // 0 = any free port
	CallbackURL string // "" = no ready callback
	Backend     string
	Device      int
	Threads     int // 0 = all cores
	Logger      *slog.Logger

	// Ready, if set, is called with the advertised URI once serving (tests).
	Ready func(uri string)
	// CallbackAttempts and CallbackBackoff tune the ready callback retry
	// (defaults 5 attempts, 250 ms doubling).
	CallbackAttempts int
	CallbackBackoff  time.Duration
	// Grace bounds the graceful shutdown (default 10 s).
	Grace time.Duration
}

// CheckBackend refuses backends other than cpu.
func CheckBackend(b string) error {
	if b != BackendCPU {
		return &BackendError{Backend: b}
	}
	return nil
}

// Run loads the model, serves it, sends the ready callback and serves until
// ctx ends (SIGTERM/SIGINT in the CLI), then cancels the running generation
// and shuts down. Start-up failures are a *BackendError or wrap ErrModel or ErrListen.
func Run(ctx context.Context, cfg RunConfig) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := CheckBackend(cfg.Backend); err != nil {
		return err
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	t0 := time.Now()
	log.Info("loading model", "worker_id", cfg.WorkerID, "model", cfg.ModelPath, "backend", cfg.Backend, "device", cfg.Device)
	b, err := Load(cfg.ModelPath, LoadOptions{Threads: cfg.Threads})
	if err != nil {
		return err
	}
	defer func() {
		if err := b.Close(); err != nil {
			log.Warn("closing model", "error", err)
		}
	}()
	var mapped, huge int64
	if mp, ok := b.Model.(interface{ Mapped() (int64, int64) }); ok {
		mapped, huge = mp.Mapped()
	}
	log.Info("model loaded", "name", b.Name, "vram_bytes", b.Model.WeightBytes(), "context", b.Model.ContextLength(),
		"mapped_bytes", mapped, "huge_page_bytes", huge, "ms", time.Since(t0).Milliseconds())
	if smallPages(runtime.GOOS, mapped, huge) {
		log.Warn("weights mapped in 4 KiB pages, not 2 MiB: decode may run ~20% slower",
			"mapped_bytes", mapped, "huge_page_bytes", huge,
			"hint", "transparent huge pages off (/sys/kernel/mm/transparent_hugepage/enabled) or free memory too fragmented for 2 MiB page-cache folios")
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("%w on %s port %d: %w", ErrListen, cfg.Host, cfg.Port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	uri := "http://" + net.JoinHostPort(AdvertiseHost(cfg.Host, cfg.CallbackURL), strconv.Itoa(port))
	log.Info("listening", "addr", ln.Addr().String(), "uri", uri)

	srv := New(b, Options{Logger: log})
	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveCtx, ln, orDefault(cfg.Grace, 10*time.Second)) }()

	if cfg.Ready != nil {
		cfg.Ready(uri)
	}
	if cfg.CallbackURL != "" {
		go func() {
			cb := worker.ReadyCallback{WorkerID: cfg.WorkerID, VRAMBytes: b.Model.WeightBytes(), URI: uri}
			attempts := cfg.CallbackAttempts
			if attempts <= 0 {
				attempts = 5
			}
			if err := SendReady(serveCtx, cfg.CallbackURL, cb, attempts, orDefault(cfg.CallbackBackoff, 250*time.Millisecond)); err != nil {
				log.Warn("ready callback failed; still serving", "url", cfg.CallbackURL, "error", err)
				return
			}
			log.Info("ready callback sent", "url", cfg.CallbackURL)
		}()
	} else {
		log.Info("no --callback-url; not announcing readiness")
	}

	err = <-done
	log.Info("stopped", "worker_id", cfg.WorkerID)
	return err
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// SendReady POSTs the ready callback, retrying failures (connection errors,
// non-2xx) with a doubling backoff.
func SendReady(ctx context.Context, callbackURL string, cb worker.ReadyCallback, attempts int, backoff time.Duration) error {
	body, err := json.Marshal(cb)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (then: %w)", last, ctx.Err())
			case <-time.After(backoff):
			}
			backoff *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("callback url %q: %w", callbackURL, err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return fmt.Errorf("after %d attempts: %w", attempts, last)
}

// AdvertiseHost is the host put in the reported uri: the bind host, or for
// an all-interfaces bind (0.0.0.0, ::) the local address that routes to the
// callback's host (the hive can reach that one), else 127.0.0.1.
func AdvertiseHost(bindHost, callbackURL string) string {
	ip := net.ParseIP(bindHost)
	if ip == nil || !ip.IsUnspecified() {
		return bindHost
	}
	if u, err := url.Parse(callbackURL); err == nil && u.Hostname() != "" {
		// A UDP "connection" sends nothing; it only picks the route's source address.
		if c, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), "9")); err == nil {
			defer c.Close()
			return c.LocalAddr().(*net.UDPAddr).IP.String()
		}
	}
	return "127.0.0.1"
}

// smallPages reports whether a Linux worker's weights (at least 64 MiB of
// them) are mostly mapped in 4 KiB pages; elsewhere the split is unknown.
func smallPages(goos string, mapped, huge int64) bool {
	return goos == "linux" && mapped >= 64<<20 && huge < mapped/2
}
