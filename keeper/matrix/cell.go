package matrix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rbee-go/rbee/hive/workers"
	"github.com/rbee-go/rbee/worker"
)

// The request every cell sends twice (DESIGN §6: temperature 0, seed 42).
const (
	Prompt    = "The capital of France is"
	MaxTokens = 16
	Seed      = 42
)

// stopTimeout bounds stopping a worker after its cell, even when the cell's
// own context is gone (failure, timeout, interrupt).
const stopTimeout = 30 * time.Second

// stepError is a failed cell step; the step names the reason in the table.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + firstLine(e.err.Error()) }
func (e *stepError) Unwrap() error { return e.err }

// skipError is a preflight that says the cell cannot run here (⏭).
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return &stepError{step: name, err: err}
}

// cell is one run of a model on a pool/backend.
type cell struct {
	p       *Pool
	backend string
	m       Model
	c       *Cell

	generateMs int64
	workerID   string // set once spawn was attempted
	stopped    bool
}

// RunCell runs one cell: register → download → preflight → spawn → ready →
// execute twice → stream conformance → stop → no process left. The worker
// is stopped whatever happens, also when ctx is cancelled.
func (p *Pool) RunCell(ctx context.Context, backend string, m Model, timeout time.Duration) Cell {
	start := time.Now()
	c := Cell{Pool: p.Name, Backend: backend, Model: m.ID, Repo: m.Repo, Architecture: m.Architecture, Tiny: m.Tiny, CI: m.CI}
	r := &cell{p: p, backend: backend, m: m, c: &c}
	if err := ctx.Err(); err != nil {
		c.Status, c.Reason = Fail, fmt.Sprintf("not run: the matrix was interrupted (%v)", err)
		return c
	}
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := r.run(ctx)
	if r.workerID != "" && !r.stopped {
		if serr := r.cleanup(); serr != nil && err == nil {
			err = step("stop", serr)
		}
	}
	c.WallMs = time.Since(start).Milliseconds()
	var skip *skipError
	switch {
	case err == nil:
		c.Status = Pass
		c.OverheadMs = max(0, c.WallMs-c.DownloadMs-c.SpawnReadyMs-r.generateMs)
	case errors.As(err, &skip):
		c.Status, c.Reason = Skip, skip.reason
	default:
		switch {
		case outer.Err() != nil:
			err = fmt.Errorf("%w (the matrix was interrupted)", err)
		case ctx.Err() != nil:
			err = fmt.Errorf("%w (cell timeout %s)", err, timeout)
		}
		c.Status, c.Reason = Fail, err.Error()
	}
	return c
}

func (r *cell) run(ctx context.Context) error {
	if err := r.timed("register", func() error { return r.register(ctx) }); err != nil {
		return err
	}
	if err := r.timed("download", func() error { return r.download(ctx) }); err != nil {
		return err
	}
	r.c.Downloaded = true
	if err := r.timed("preflight", func() error { return r.preflight(ctx) }); err != nil {
		return err
	}
	var res workers.SpawnResult
	if err := r.timed("spawn", func() (err error) { res, err = r.spawn(ctx); return err }); err != nil {
		return err
	}
	client, err := r.p.workerClient(ctx, res.URI)
	if err != nil {
		return step("ready", err)
	}
	defer client.HTTP.CloseIdleConnections() // over SSH: channels of the shared connection
	if err := r.timed("ready", func() error { return ready(ctx, client) }); err != nil {
		return err
	}
	if r.backend != "cpu" {
		if err := r.timed("gpu", func() error { return r.checkGPU(ctx, client, res.Record) }); err != nil {
			return err
		}
	}
	if err := r.timed("execute", func() error { return r.execute(ctx, client) }); err != nil {
		return err
	}
	if err := r.timed("stop", func() error { return r.stop(ctx, res.Record) }); err != nil {
		return err
	}
	return r.timed("no process left", func() error { return r.gone(ctx, client, res.Record) })
}

// timed runs one step, records its wall time and names it in a failure
// (a preflight skip passes through as is).
func (r *cell) timed(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	r.c.StepsMs = append(r.c.StepsMs, StepTime{Step: name, Ms: time.Since(start).Milliseconds()})
	var skip *skipError
	if err == nil || errors.As(err, &skip) {
		return err
	}
	return step(name, err)
}

func (r *cell) hive(ctx context.Context, v any, args ...string) error {
	k, host := r.p.Keeper()
	return k.RunJSON(ctx, host, args, v)
}

// register adds the model to the pool's catalog. A model already there is
// fine when its repo is the same (real pools keep their catalog between
// runs); the catalog is read only then, to save a round trip per cell.
func (r *cell) register(ctx context.Context) error {
	var out map[string]any
	err := r.hive(ctx, &out, r.m.registerArgs()...)
	if err == nil || !strings.Contains(err.Error(), "already registered") {
		return err
	}
	k, host := r.p.Keeper()
	cat, cerr := k.Catalog(ctx, host)
	if cerr != nil {
		return cerr
	}
	if m := cat.Find(r.m.ID); m != nil && m.Metadata.Repo != r.m.Repo {
		return fmt.Errorf("%s is registered on %s with repo %s, not %s (rbee-hive models unregister %s)",
			r.m.ID, r.p.Name, m.Metadata.Repo, r.m.Repo, r.m.ID)
	}
	return nil
}

// downloadResult is the part of `models download --json` the cell reads.
type downloadResult struct {
	SizeBytes int64   `json:"size_bytes"`
	Seconds   float64 `json:"seconds"`
}

func (r *cell) download(ctx context.Context) error {
	var d downloadResult
	if err := r.hive(ctx, &d, "models", "download", r.m.ID); err != nil {
		return err
	}
	r.c.ModelBytes = d.SizeBytes
	r.c.DownloadMs = int64(d.Seconds * 1000)
	return nil
}

// memoryFactor is DESIGN §3's preflight margin over the model's bytes,
// for a hive that reports no worker profile.
const memoryFactor = 1.2

// preflight skips the cell when the pool lacks the backend or the memory.
func (r *cell) preflight(ctx context.Context) error {
	k, host := r.p.Keeper()
	st, err := k.Status(ctx, host)
	if err != nil {
		return err
	}
	if !slices.Contains(st.Backends, r.backend) {
		return &skipError{fmt.Sprintf("backend %s not present on %s (has %s)", r.backend, r.p.Name, strings.Join(st.Backends, ", "))}
	}
	factor := memoryFactor
	if p, ok := st.WorkerProfiles[r.backend]; ok && p.MemoryFactor > 0 {
		factor = p.MemoryFactor // the worker's own (2.4 for the Rust worker's F32 weights)
	}
	need := uint64(float64(r.c.ModelBytes) * factor)
	free, what := st.RAMAvailableBytes, "RAM"
	if r.backend == "cuda" {
		free, what = 0, "VRAM"
		for _, g := range st.GPUs {
			free = max(free, g.MemoryFreeBytes)
		}
	}
	if need > free {
		return &skipError{fmt.Sprintf("needs %s (model × %.1f), %s has %s free %s", gib(need), factor, r.p.Name, gib(free), what)}
	}
	return nil
}

func (r *cell) spawn(ctx context.Context) (workers.SpawnResult, error) {
	wait := 2 * time.Minute
	if d, ok := ctx.Deadline(); ok {
		wait = max(time.Until(d)-5*time.Second, time.Second)
	}
	args := []string{"worker", "spawn", r.backend, "--model", r.m.ID, "--wait", wait.Round(time.Second).String()}
	if r.p.onThisMachine {
		port, err := freePort()
		if err != nil {
			return workers.SpawnResult{}, err
		}
		args = append(args, "--port", strconv.Itoa(port))
	}
	id := "worker-" + r.backend + "-0"
	var res workers.SpawnResult
	if !r.p.tempHome {
		// A real pool may run a worker of its own: the matrix never touches
		// it (the cleanup below would stop whatever has the id).
		var list []workers.Status
		if err := r.hive(ctx, &list, "worker", "list"); err != nil {
			return res, err
		}
		for _, w := range list {
			if w.ID == id {
				return res, fmt.Errorf("%s already runs model %s (%s) on %s; the matrix leaves it alone: stop it first (rbee-hive worker stop %s)",
					id, w.ModelID, w.State, r.p.Name, id)
			}
		}
	}
	r.workerID = id // from here on, a failure or an interrupt stops it
	if err := r.hive(ctx, &res, args...); err != nil {
		return res, r.explainSpawn(err)
	}
	r.workerID = res.ID
	if res.AlreadyRunning {
		r.workerID = "" // not ours
		return res, fmt.Errorf("%s was already running on %s before the cell; stop it first", res.ID, r.p.Name)
	}
	if !res.ReadyAt.IsZero() {
		r.c.SpawnReadyMs = res.ReadyAt.Sub(res.StartedAt).Milliseconds()
	}
	return res, nil
}

func ready(ctx context.Context, c *worker.Client) error {
	h, err := c.Health(ctx)
	if err != nil {
		return err
	}
	if h.Status != worker.StatusHealthy {
		return fmt.Errorf("/health says %q, want %q", h.Status, worker.StatusHealthy)
	}
	return nil
}

func (r *cell) stop(ctx context.Context, rec workers.Record) error {
	var res workers.StopResult
	err := r.hive(ctx, &res, "worker", "stop", rec.ID)
	r.stopped = err == nil
	if err != nil {
		return err
	}
	if !res.WasRunning {
		return fmt.Errorf("%s had exited before it was stopped", rec.ID)
	}
	return nil
}

// gone checks that nothing of the worker is left: no record, no process,
// nothing answering on its port.
func (r *cell) gone(ctx context.Context, client *worker.Client, rec workers.Record) error {
	var list []workers.Status
	if err := r.hive(ctx, &list, "worker", "list"); err != nil {
		return err
	}
	for _, w := range list {
		if w.ID == rec.ID {
			return fmt.Errorf("%s is still listed (state %s) after stop", rec.ID, w.State)
		}
	}
	if r.p.onThisMachine && alive(ctx, rec.PID, rec.StartTime) {
		return fmt.Errorf("%s: process %d still runs after stop", rec.ID, rec.PID)
	}
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := client.Health(hctx); err == nil {
		return fmt.Errorf("%s: something still answers /health at %s after stop", rec.ID, client.BaseURL)
	}
	return nil
}

// cleanup stops the cell's worker when the cell did not get to: a failed
// step, a timeout or an interrupt. A worker that never started is fine.
func (r *cell) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	var res workers.StopResult
	err := r.hive(ctx, &res, "worker", "stop", r.workerID)
	if err != nil && strings.Contains(err.Error(), "no worker") {
		return nil
	}
	r.stopped = err == nil
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func gib(n uint64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }
