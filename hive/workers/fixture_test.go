package workers_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

// mapCatalog is a Catalog over a map.
type mapCatalog map[string]workers.Model

func (c mapCatalog) Model(_ context.Context, id string) (workers.Model, bool, error) {
	m, ok := c[id]
	return m, ok, nil
}

// fakeHost answers fixed figures (the real one is tested in host_test.go).
type fakeHost struct {
	unavailable error
	ram, vram   uint64
	apps        map[int]uint64 // nvidia-smi's compute apps
}

func (h fakeHost) ComputeApps(context.Context) (map[int]uint64, error) { return h.apps, nil }

func (h fakeHost) Available(context.Context, string, int) error { return h.unavailable }
func (h fakeHost) FreeRAM(context.Context) (uint64, error)      { return h.ram, nil }
func (h fakeHost) FreeVRAM(context.Context, int) (uint64, error) {
	return h.vram, nil
}

// fixture is a home with one downloaded model "tiny" and a manager whose
// worker binary is the test double.
type fixture struct {
	home, pidDir string
	catalog      mapCatalog
	host         *fakeHost
	m            *workers.Manager
}

// doubleArgs is the argument template that makes the double behave as mode.
func doubleArgs(mode string, extra ...string) string {
	s := "--mode " + mode + " --worker-id {id} --model {model} --port {port} --callback-url {callback} --backend {backend} --device {gpu}"
	for _, e := range extra {
		s += " " + e
	}
	return s
}

func newFixture(t testing.TB, mode string, extraEnv ...string) *fixture {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	home := t.TempDir()
	modelDir := filepath.Join(home, "models", "tiny")
	require.NoError(t, os.MkdirAll(modelDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(modelDir, "model.safetensors"), make([]byte, 1000), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(modelDir, "config.json"), []byte("{}"), 0o644))
	f := &fixture{
		home:   home,
		pidDir: t.TempDir(),
		catalog: mapCatalog{"tiny": {ID: "tiny", Path: modelDir, Downloaded: true,
			Backends: []string{"cpu", "cuda"}}},
		host: &fakeHost{ram: 1 << 30, vram: 1 << 30},
	}
	env := append(os.Environ(),
		"RBEE_WORKER_BIN="+exe,
		"RBEE_TEST_WORKER_DOUBLE=1",
		"RBEE_TEST_WORKER_PIDDIR="+f.pidDir,
		"RBEE_WORKER_ARGS="+doubleArgs(mode),
	)
	f.m = &workers.Manager{Home: home, Catalog: f.catalog, Host: f.host, Env: append(env, extraEnv...)}
	t.Cleanup(f.killAll)
	return f
}

// killAll kills every process the double started, whatever the test did.
func (f *fixture) killAll() {
	entries, _ := os.ReadDir(f.pidDir)
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// pids are the processes the double started so far.
func (f *fixture) pids(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir(f.pidDir)
	require.NoError(t, err)
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		require.NoError(t, err)
		out = append(out, pid)
	}
	return out
}

// requireNoProcess fails unless every double process is gone (reaped).
func (f *fixture) requireNoProcess(t *testing.T) {
	t.Helper()
	for _, pid := range f.pids(t) {
		require.Eventually(t, func() bool { return !processExists(pid) }, 5*time.Second, 10*time.Millisecond,
			"process %d is still there", pid)
	}
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// requireNoRecord fails if a record for id exists.
func (f *fixture) requireNoRecord(t *testing.T, id string) {
	t.Helper()
	_, err := os.Stat(filepath.Join(f.home, "workers", id+".json"))
	require.ErrorIs(t, err, os.ErrNotExist, "record of %s left behind", id)
}

// freePort is a port nothing listens on right now.
// It is drawn below the kernel's ephemeral range (32768+ on Linux): a port
// the kernel hands out for ":0" or an outgoing connection of a test running
// in parallel could be taken again between this check and the worker's bind.
func freePort(t testing.TB) int {
	t.Helper()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatal("no free port in 20000-31999")
	return 0
}

// spawn asks for the cpu worker of "tiny" on a free port.
func (f *fixture) spawn(t *testing.T, wait time.Duration) (workers.SpawnResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return f.m.Spawn(ctx, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: freePort(t), Wait: wait})
}

func requireCode(t *testing.T, err error, code workers.Code) *workers.Error {
	t.Helper()
	require.Error(t, err)
	var we *workers.Error
	require.ErrorAs(t, err, &we, "error %v has no code", err)
	require.Equal(t, code, we.Code, "error: %v", err)
	return we
}

// stringsBuilder is a strings.Builder usable as an io.Writer from several goroutines.
type stringsBuilder struct {
	mu sync.Mutex
	b  []byte
}

func (s *stringsBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *stringsBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

func itoa(n int) string { return strconv.Itoa(n) }
