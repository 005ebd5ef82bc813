package workers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

func writeProfiles(t *testing.T, home, text string) string {
	t.Helper()
	p := filepath.Join(home, workers.ArgsFile)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestProfilePresets(t *testing.T) {
	pathDir := t.TempDir()
	goBin := executable(t, pathDir, "llm-worker-rbee")
	cudaBin := executable(t, pathDir, "llm-worker-rbee-cuda")
	m := &workers.Manager{Home: t.TempDir(), Env: []string{"PATH=" + pathDir}}

	cpu, err := m.Profile("cpu")
	require.NoError(t, err)
	assert.Equal(t, workers.PresetGo, cpu.Name)
	assert.Equal(t, goBin, cpu.Path)
	assert.Equal(t, workers.DefaultArgs(), cpu.Args)
	assert.InDelta(t, 1.2, cpu.MemoryFactor, 1e-9)
	assert.Equal(t, "default for cpu", cpu.Sources["profile"])
	assert.Equal(t, "preset go", cpu.Sources["bin"])

	cuda, err := m.Profile("cuda")
	require.NoError(t, err)
	assert.Equal(t, workers.PresetRustSeed, cuda.Name)
	assert.Equal(t, cudaBin, cuda.Path)
	assert.Equal(t, []string{"--worker-id", "{id}", "--model", "{model}", "--port", "{port}", "--callback-url", "{callback}", "--cuda-device", "{gpu}"}, cuda.Args)
	assert.InDelta(t, 2.4, cuda.MemoryFactor, 1e-9)
	assert.Contains(t, cuda.Quirks, workers.QuirkCallbackBeforeBind)

	metal, err := m.Profile("metal")
	require.Error(t, err, "no llm-worker-rbee-metal on PATH")
	requireCode(t, err, workers.CodeWorkerBinaryNotFound)
	assert.Equal(t, "llm-worker-rbee-metal", metal.Bin)
	assert.Empty(t, metal.Path)
	assert.Equal(t, "not found on PATH", metal.BinError)
	assert.Contains(t, metal.Args, "--metal-device")
}

func TestProfileFileAndEnv(t *testing.T) {
	binDir := t.TempDir()
	fileBin := executable(t, binDir, "my-cuda-worker")
	envBin := executable(t, binDir, "env-worker")
	home := t.TempDir()
	path := writeProfiles(t, home, `
[backends.cpu]
profile = "rust-seed"
bin = "`+fileBin+`"
env = { LLORCH_LOG_FORMAT = "json" }
memory_factor = 3

[backends.cuda]
args = ["--worker-id", "{id}", "--model", "{model}", "--port", "{port}", "--callback-url", "{callback}", "--cuda-device", "{gpu}", "--x"]
memory_factor = 2.5
`)
	m := &workers.Manager{Home: home, Env: []string{"PATH=" + binDir}}
	cpu, err := m.Profile("cpu")
	require.NoError(t, err)
	assert.Equal(t, workers.PresetRustSeed, cpu.Name)
	assert.Equal(t, fileBin, cpu.Path)
	assert.Equal(t, workers.RustArgs("cpu"), cpu.Args)
	assert.Equal(t, map[string]string{"LLORCH_LOG_FORMAT": "json"}, cpu.Env)
	assert.InDelta(t, 3.0, cpu.MemoryFactor, 1e-9)
	assert.Equal(t, path+" backends.cpu.profile", cpu.Sources["profile"])
	assert.Equal(t, path+" backends.cpu.bin", cpu.Sources["bin"])
	assert.Equal(t, "preset rust-seed", cpu.Sources["args"])
	assert.Equal(t, path+" backends.cpu.env", cpu.Sources["env"])
	assert.Equal(t, path+" backends.cpu.memory_factor", cpu.Sources["memory_factor"])

	cuda, _ := m.Profile("cuda")
	assert.Equal(t, workers.PresetRustSeed, cuda.Name, "the backend's default preset")
	assert.Equal(t, "--x", cuda.Args[len(cuda.Args)-1])
	assert.InDelta(t, 2.5, cuda.MemoryFactor, 1e-9)

	// The environment still overrides the file.
	m.Env = []string{"PATH=" + binDir, "RBEE_WORKER_BIN_CPU=" + envBin, "RBEE_WORKER_ARGS_CPU=--a {id}"}
	cpu, err = m.Profile("cpu")
	require.NoError(t, err)
	assert.Equal(t, envBin, cpu.Path)
	assert.Equal(t, "$RBEE_WORKER_BIN_CPU", cpu.Sources["bin"])
	assert.Equal(t, []string{"--a", "{id}"}, cpu.Args)
	assert.Equal(t, "$RBEE_WORKER_ARGS_CPU", cpu.Sources["args"])
}

// Bad input: one line naming the file and key, and nothing spawned.
func TestProfileBadInput(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, os.WriteFile(notExec, nil, 0o644))
	tests := []struct {
		name, file, key, msg string
	}{
		{"unknown preset", `[backends.cpu]
profile = "rust"`, "backends.cpu.profile", `unknown preset "rust" (presets: go, rust-seed)`},
		{"bin missing", `[backends.cpu]
bin = "/nonexistent/worker"`, "backends.cpu.bin", "no such file or directory"},
		{"bin not executable", `[backends.cpu]
bin = "` + notExec + `"`, "backends.cpu.bin", "is not executable"},
		{"env value not a string", `[backends.cpu]
env = { THREADS = 4 }`, "backends.cpu.env.THREADS", "not a string"},
		{"unknown placeholder", `[backends.cpu]
args = ["--model", "{modle}"]`, "backends.cpu.args", "unknown placeholder {modle}"},
		{"memory factor zero", `[backends.cpu]
memory_factor = 0`, "backends.cpu.memory_factor", "must be more than 0"},
		{"memory factor negative", `[backends.cpu]
memory_factor = -1.5`, "backends.cpu.memory_factor", "must be more than 0"},
		{"memory factor not a number", `[backends.cpu]
memory_factor = "2"`, "backends.cpu.memory_factor", "not a number"},
		{"unknown key", `[backends.cpu]
arg = ["x"]`, "backends.cpu.arg", "unknown key"},
		{"unknown backend", `[backends.tpu]
bin = "x"`, "backends.tpu", "unknown backend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "both", "RBEE_WORKER_ARGS=", "RBEE_WORKER_BIN=")
			path := writeProfiles(t, f.home, tt.file)
			_, err := f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: freePort(t)})
			we := requireCode(t, err, workers.CodeWorkerArgsInvalid)
			assert.Contains(t, we.Message, path)
			assert.Contains(t, we.Message, tt.key)
			assert.Contains(t, we.Message, tt.msg)
			assert.NotContains(t, we.Error(), "\n", "one line")
			assert.Empty(t, f.pids(t), "nothing spawned")
			_, err = os.Stat(filepath.Join(f.home, "workers", "worker-cpu-0.json"))
			assert.ErrorIs(t, err, os.ErrNotExist, "no record")
		})
	}
}

// The profile's env reaches the worker, and its memory factor the preflight.
func TestSpawnUsesTheProfile(t *testing.T) {
	f := newFixture(t, "both")
	writeProfiles(t, f.home, `[backends.cpu]
env = { RBEE_TEST_PROFILE_ENV = "from the profile" }
`)
	res, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	log, err := os.ReadFile(res.LogPath)
	require.NoError(t, err)
	assert.Contains(t, string(log), "profile env: from the profile")
	_, err = f.m.Stop(context.Background(), res.ID, 5*time.Second)
	require.NoError(t, err)

	writeProfiles(t, f.home, "[backends.cpu]\nmemory_factor = 2000000\n") // 1002 bytes × 2e6 > 1 GiB free
	_, err = f.spawn(t, 20*time.Second)
	we := requireCode(t, err, workers.CodeInsufficientRAM)
	assert.Contains(t, we.Message, "(2e+06 × 1002 B on disk)")
}
