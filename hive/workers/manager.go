package workers

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Backends a worker can run on.
const (
	BackendCPU   = "cpu"
	BackendMetal = "metal"
	BackendCUDA  = "cuda"
)

// DefaultWait is how long Spawn waits for readiness unless told otherwise.
const DefaultWait = 120 * time.Second

// DefaultStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const DefaultStopTimeout = 10 * time.Second

// Model is what Spawn needs to know about a catalog entry.
type Model struct {
	ID         string
	Path       string // model directory (or single weights file)
	Downloaded bool
	// Changed lists files missing or modified since they were verified
	// ("NAME (why)"); a model with any is refused like one not downloaded.
	Changed  []string
	Backends []string
}

// Catalog finds registered models; the hive's catalog satisfies it through
// a small adapter, tests through a map.
type Catalog interface {
	// Model returns the entry for id; ok is false when it is not registered.
	Model(ctx context.Context, id string) (m Model, ok bool, err error)
}

// Host answers what this machine offers; SystemHost is the real one.
type Host interface {
	// Available returns nil when backend (and GPU gpu) can run here,
	// otherwise an error saying why not.
	Available(ctx context.Context, backend string, gpu int) error
	// FreeRAM is the memory available for a new process, in bytes.
	FreeRAM(ctx context.Context) (uint64, error)
	// FreeVRAM is the free memory of GPU gpu, in bytes.
	FreeVRAM(ctx context.Context, gpu int) (uint64, error)
}

// Manager spawns, lists, stops and tails workers under one home.
type Manager struct {
	Home    string  // RBEE_HOME; records and logs go to Home/workers
	Catalog Catalog // where models are looked up
	Host    Host    // nil = SystemHost{}
	// Env is the environment used to resolve the worker binary and
	// argument template and handed to the worker; nil = os.Environ().
	Env    []string
	Logger *slog.Logger // nil = discard
}

func (m *Manager) dir() string { return filepath.Join(m.Home, "workers") }

func (m *Manager) recordPath(id string) string { return filepath.Join(m.dir(), id+".json") }

func (m *Manager) logPath(id string) string { return filepath.Join(m.dir(), id+".log") }

func (m *Manager) env() []string {
	if m.Env != nil {
		return m.Env
	}
	return os.Environ()
}

// getenv looks key up in the manager's environment (last one wins, as in exec).
func (m *Manager) getenv(key string) string {
	env := m.env()
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (m *Manager) host() Host {
	if m.Host != nil {
		return m.Host
	}
	return SystemHost{}
}

func (m *Manager) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// WorkerID is the id of the worker for backend on GPU gpu.
func WorkerID(backend string, gpu int) string {
	return "worker-" + backend + "-" + strconv.Itoa(gpu)
}
