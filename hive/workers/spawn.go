package workers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// SpawnRequest asks for a worker of model ModelID on Backend/GPU.
type SpawnRequest struct {
	Backend string
	ModelID string
	GPU     int
	Port    int           // 0 = 8000+GPU; taken → the next free one
	Wait    time.Duration // readiness deadline; 0 = DefaultWait
}

// SpawnResult is the ready worker (or the one already running).
type SpawnResult struct {
	Status
	AlreadyRunning bool   `json:"already_running"`
	ReadyVia       string `json:"ready_via,omitempty"` // "callback" or "health"
}

// logTailLines is how much of the log a startup failure carries.
const logTailLines = 20

// CodeWorkerAlreadyRunning: the id runs another model; stop it first.
const CodeWorkerAlreadyRunning Code = "WORKER_ALREADY_RUNNING"

// Spawn checks everything it can before starting a process, starts the
// worker in its own session, and returns once it is ready. On failure no
// process and no record are left behind.
func (m *Manager) Spawn(ctx context.Context, req SpawnRequest) (SpawnResult, error) {
	if err := checkRequest(&req); err != nil {
		return SpawnResult{}, err
	}
	mdl, err := m.checkModel(ctx, req)
	if err != nil {
		return SpawnResult{}, err
	}
	if err := m.host().Available(ctx, req.Backend, req.GPU); err != nil {
		e := newError(CodeBackendUnavailable, "`rbee-hive status` lists the backends of this host",
			"backend %s (device %d) is not available on this host", req.Backend, req.GPU)
		e.Err = err
		return SpawnResult{}, e
	}
	id := WorkerID(req.Backend, req.GPU)
	if err := os.MkdirAll(m.dir(), 0o755); err != nil {
		return SpawnResult{}, fmt.Errorf("creating %s: %w", m.dir(), err)
	}
	// One spawn per id at a time, across processes: the second one waits
	// and then finds the first one's worker running.
	lock := flock.New(m.recordPath(id) + ".lock")
	if ok, err := lock.TryLockContext(ctx, 20*time.Millisecond); err != nil || !ok {
		return SpawnResult{}, fmt.Errorf("waiting for another spawn of %s: %w", id, errors.Join(err, ctx.Err()))
	}
	defer lock.Unlock() //nolint:errcheck // closing the fd releases it anyway

	if res, done, err := m.existing(ctx, id, mdl); done || err != nil {
		return res, err
	}
	// The configuration first, then the memory (which needs only its
	// factor), then the binary and what it accepts.
	prof, err := m.profile(req.Backend)
	if err != nil {
		return SpawnResult{}, err
	}
	if err := m.checkMemory(ctx, req, mdl, prof.MemoryFactor); err != nil {
		return SpawnResult{}, err
	}
	if err := m.resolveBin(&prof); err != nil {
		return SpawnResult{}, err
	}
	if err := m.checkTemplate(ctx, prof); err != nil {
		return SpawnResult{}, err
	}
	want := req.Port
	if want == 0 {
		want = 8000 + req.GPU
	}
	port, err := pickPort(want, m.claimedPorts(ctx, id))
	if err != nil {
		return SpawnResult{}, newError(CodeWorkerStartupFailed, "pass a free --port", "%v", err)
	}
	cs, err := startCallbackServer(id)
	if err != nil {
		return SpawnResult{}, err
	}
	defer cs.Close()
	args := renderArgs(prof.Args, templateValues(id, mdl, port, cs.URL(), req.Backend, req.GPU))
	return m.start(ctx, req, mdl, id, prof, args, port, cs)
}

func checkRequest(req *SpawnRequest) error {
	switch req.Backend {
	case BackendCPU, BackendMetal, BackendCUDA:
	default:
		return newError(CodeInvalidRequest, "backends: cpu, metal, cuda", "unknown backend %q", req.Backend)
	}
	if req.ModelID == "" {
		return newError(CodeInvalidRequest, "", "--model is required")
	}
	if req.GPU < 0 {
		return newError(CodeInvalidRequest, "", "--gpu must be 0 or more, not %d", req.GPU)
	}
	if req.Port < 0 || req.Port > 65535 {
		return newError(CodeInvalidRequest, "", "--port must be 1-65535, not %d", req.Port)
	}
	if req.Wait < 0 {
		return newError(CodeInvalidRequest, "", "--wait must be positive")
	}
	if req.Wait == 0 {
		req.Wait = DefaultWait
	}
	return nil
}

func (m *Manager) checkModel(ctx context.Context, req SpawnRequest) (Model, error) {
	if m.Catalog == nil {
		return Model{}, errors.New("workers: Manager has no Catalog")
	}
	mdl, ok, err := m.Catalog.Model(ctx, req.ModelID)
	if err != nil {
		return Model{}, err
	}
	if !ok {
		return Model{}, newError(CodeModelNotFound, "`rbee-hive models catalog` lists the registered models; `rbee-hive models register` adds one",
			"model %q is not in this pool's catalog", req.ModelID)
	}
	if !mdl.Downloaded {
		return Model{}, newError(CodeModelNotDownloaded, "run `rbee-hive models download "+mdl.ID+"`",
			"model %q is registered but not downloaded", mdl.ID)
	}
	if _, err := os.Stat(mdl.Path); err != nil {
		e := newError(CodeModelNotDownloaded, "run `rbee-hive models download "+mdl.ID+"`",
			"model %q is marked downloaded but its files are missing", mdl.ID)
		e.Err = err
		return Model{}, e
	}
	if !slices.Contains(mdl.Backends, req.Backend) {
		return Model{}, newError(CodeBackendUnsupported,
			"spawn it on one of its backends, or register the model again with --backends including "+req.Backend,
			"model %q supports backends [%s], not %s", mdl.ID, strings.Join(mdl.Backends, ", "), req.Backend)
	}
	return mdl, nil
}

// existing handles a record already under id: a live worker of the same
// model is reported (done), of another model refused; a dead one's record
// is cleared so the spawn proceeds.
func (m *Manager) existing(ctx context.Context, id string, mdl Model) (SpawnResult, bool, error) {
	r, err := m.readRecord(id)
	if CodeOf(err) == CodeWorkerNotFound {
		return SpawnResult{}, false, nil
	}
	if err != nil {
		return SpawnResult{}, false, err
	}
	if !alive(ctx, r.PID, r.StartTime) {
		m.log().Info("clearing record of dead worker", "id", id, "pid", r.PID)
		return SpawnResult{}, false, m.removeRecord(id)
	}
	if r.ModelID != mdl.ID {
		return SpawnResult{}, true, newError(CodeWorkerAlreadyRunning, "stop it first: rbee-hive worker stop "+id,
			"%s is already running model %q at %s", id, r.ModelID, r.URI)
	}
	return SpawnResult{Status: m.status(ctx, newHealthClient(), r), AlreadyRunning: true}, true, nil
}

// claimedPorts are the ports of other workers still alive.
func (m *Manager) claimedPorts(ctx context.Context, self string) map[int]bool {
	rs, _ := m.records() // a broken record elsewhere must not block this spawn
	claimed := map[int]bool{}
	for _, r := range rs {
		if r.ID != self && alive(ctx, r.PID, r.StartTime) {
			claimed[r.Port] = true
		}
	}
	return claimed
}

// start runs the worker and waits for readiness.
func (m *Manager) start(ctx context.Context, req SpawnRequest, mdl Model, id string, prof Profile, args []string, port int, cs *callbackServer) (SpawnResult, error) {
	logPath := m.logPath(id)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return SpawnResult{}, fmt.Errorf("opening worker log: %w", err)
	}
	bin := prof.Path
	cmd := exec.Command(bin, args...)
	cmd.Env = m.workerEnv(prof)
	cmd.Dir = m.Home
	cmd.Stdout, cmd.Stderr = logf, logf
	detach(cmd)
	startedAt := time.Now()
	err = cmd.Start()
	logf.Close() // the worker holds its own descriptor
	if err != nil {
		e := newError(CodeWorkerStartupFailed, "check the worker binary "+bin, "cannot start %s", bin)
		e.Err = err
		return SpawnResult{}, e
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps the child if it dies while we run

	ct, err := createTime(ctx, pid)
	if err != nil {
		ct = startedAt.UnixMilli() // exited already; the wait below reports it
	}
	rec := Record{
		ID: id, Backend: req.Backend, GPU: req.GPU, ModelID: mdl.ID, ModelPath: mdl.Path,
		Port: port, URI: localURI(port), PID: pid, StartTime: ct, StartedAt: startedAt.UTC(),
		LogPath: logPath, Binary: bin, Args: args,
	}
	fail := func(reason string, cause error) (SpawnResult, error) {
		m.reap(pid, exited)
		_ = m.removeRecord(id)
		e := newError(CodeWorkerStartupFailed, "full log: rbee-hive worker logs "+id, "%s", reason)
		e.Err, e.LogPath = cause, logPath
		e.LogTail, _ = tailLines(logPath, logTailLines)
		return SpawnResult{}, e
	}
	if err := m.writeRecord(rec); err != nil {
		return fail("cannot write the worker record", err)
	}
	m.log().Info("worker started", "id", id, "pid", pid, "port", port, "binary", bin)

	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	healthy := make(chan struct{}, 1)
	// Another process that took the port in a race must not pass for ours.
	owned := func(ctx context.Context) bool { return listensOn(ctx, pid, port) }
	go newHealthClient().pollHealth(pollCtx, localURI(port), owned, healthy)
	deadline := time.NewTimer(req.Wait)
	defer deadline.Stop()

	var via string
	select {
	case cb := <-cs.ready:
		via = "callback"
		if cb.URI != "" {
			rec.URI = cb.URI
			// A worker that serves elsewhere than --port said so here.
			if u, err := url.Parse(cb.URI); err == nil {
				if p, err := strconv.Atoi(u.Port()); err == nil && p > 0 {
					rec.Port = p
				}
				if u.Hostname() == "localhost" { // the Rust worker's; it may resolve to ::1, which its 0.0.0.0 bind does not serve
					rec.URI = localURI(rec.Port)
				}
			}
		}
		rec.VRAMBytes = cb.VRAMBytes
	case <-healthy:
		via = "health"
	case err := <-exited:
		exited <- err // for reap
		return fail(fmt.Sprintf("%s exited before ready (%s)", id, exitStatus(err)), nil)
	case <-deadline.C:
		return fail(fmt.Sprintf("%s did not become ready within %s", id, req.Wait), nil)
	case <-ctx.Done():
		return fail("spawn cancelled before "+id+" became ready", ctx.Err())
	}
	if via == "callback" {
		// The Rust worker calls back before it binds its port: ready means
		// the process listens and /health answers too.
		stopPoll()
		if reason, cause := awaitServing(ctx, id, pid, rec.Port, req.Wait, exited, deadline.C); reason != "" {
			return fail(reason, cause)
		}
	}
	rec.ReadyAt = time.Now().UTC()
	if err := m.writeRecord(rec); err != nil {
		return fail("cannot write the worker record", err)
	}
	return SpawnResult{Status: Status{Record: rec, State: StateReady}, ReadyVia: via}, nil
}

// reap kills the worker's whole process group and waits for the worker to
// be gone, so a failed spawn leaves no process behind.
func (m *Manager) reap(pid int, exited <-chan error) {
	_ = signalGroup(pid, syscall.SIGKILL)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		m.log().Warn("worker did not exit after SIGKILL", "pid", pid)
	}
	_ = signalGroup(pid, syscall.SIGKILL) // stragglers the worker started
}
