package rustworker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// EnvDieAfterCallback makes the stand-in SIGKILL itself right after its
// ready callback was answered, before it binds (as the OOM killer would
// during the GPU allocation that follows): a test bed knob.
const EnvDieAfterCallback = "RBEE_STANDIN_DIE_AFTER_CALLBACK"

// Options are what Run needs from its process.
type Options struct {
	Build  Build
	Args   []string
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Pid    int
}

// logger writes tracing_subscriber's JSON lines (`fmt().with_target(false).json()`).
type logger struct{ w io.Writer }

func (l logger) logf(level, format string, args ...any) {
	line, _ := json.Marshal(map[string]any{
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), "level": level,
		"fields": map[string]string{"message": fmt.Sprintf(format, args...)},
	})
	fmt.Fprintf(l.w, "%s\n", line)
}

// Run is the seed worker's main; it returns the exit code. ctx ends on
// SIGINT (the only signal the seed worker handles; SIGTERM kills it).
func Run(ctx context.Context, o Options) int {
	a, done, code := o.Build.Parse(o.Args, o.Stdout, o.Stderr)
	if done {
		return code
	}
	log := logger{o.Stderr}
	fail := func(err error) int { // main returns anyhow's Err: "Error: …", exit 1
		fmt.Fprintf(o.Stderr, "Error: %v\n", err)
		return 1
	}
	log.logf("INFO", "Starting %s worker_id=%s model=%s port=%d", o.Build.Name, a.WorkerID, a.Model, a.Port)
	gpu, err := openDevice(o, a.Device)
	if err != nil {
		return fail(err)
	}
	defer gpu.release()
	log.logf("INFO", "Loading model from %s", a.Model)
	m, err := Load(a.Model, log.logf)
	if err != nil {
		return fail(err)
	}
	defer m.Close()
	var vram int64
	if o.Build.Backend != "cpu" {
		vram = m.F32Bytes
		if err := gpu.allocate(vram); err != nil {
			return fail(err)
		}
		log.logf("INFO", "Warming up %s device %d", o.Build.Backend, a.Device)
		if err := m.WarmUp(); err != nil {
			return fail(fmt.Errorf("warm-up failed: %w", err))
		}
	}
	log.logf("INFO", "Model loaded (%s), calling back %s", m.Arch, a.CallbackURL)
	if err := callback(ctx, a, vram); err != nil {
		return fail(fmt.Errorf("Failed to send ready callback: %w", err))
	}
	if o.Getenv(EnvDieAfterCallback) == "1" {
		log.logf("ERROR", "killed right after the ready callback (%s)", EnvDieAfterCallback)
		_ = syscall.Kill(o.Pid, syscall.SIGKILL)
		select {} // the kill is asynchronous
	}
	ln, err := net.Listen("tcp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(a.Port))) // IPv4 only, as tokio binds "0.0.0.0:PORT"
	if err != nil {
		return fail(fmt.Errorf("Failed to bind 0.0.0.0:%d: %w", a.Port, err))
	}
	log.logf("INFO", "HTTP server listening on 0.0.0.0:%d", a.Port)
	srv := &http.Server{Handler: Handler(m, vram), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fail(err)
	case <-ctx.Done():
		log.logf("INFO", "Shutdown signal received (SIGINT)")
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return 0
	}
}

// callback POSTs the ready callback once; a connection error or a non-2xx
// reply is fatal, as in the seed worker.
func callback(ctx context.Context, a Args, vram int64) error {
	body, _ := json.Marshal(map[string]any{"worker_id": a.WorkerID, "vram_bytes": vram, "uri": fmt.Sprintf("http://localhost:%d", a.Port)})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return fmt.Errorf("reading the reply: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return errors.New("callback returned " + resp.Status)
	}
	return nil
}
