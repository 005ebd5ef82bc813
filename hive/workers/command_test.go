package workers_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

func executable(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755))
	return p
}

func TestResolveBinary(t *testing.T) {
	dir := t.TempDir()
	perBackend := executable(t, dir, "worker-cpu")
	global := executable(t, dir, "worker-any")
	pathDir := t.TempDir()
	onPath := executable(t, pathDir, "llm-worker-rbee")
	notExec := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(notExec, nil, 0o644))

	tests := []struct {
		name string
		env  []string
		want string
		code workers.Code
	}{
		{"per-backend wins", []string{"RBEE_WORKER_BIN_CPU=" + perBackend, "RBEE_WORKER_BIN=" + global, "PATH=" + pathDir}, perBackend, ""},
		{"global next", []string{"RBEE_WORKER_BIN=" + global, "PATH=" + pathDir}, global, ""},
		{"PATH last", []string{"PATH=/nonexistent:" + pathDir}, onPath, ""},
		{"other backend's variable ignored", []string{"RBEE_WORKER_BIN_CUDA=" + perBackend, "PATH=" + pathDir}, onPath, ""},
		{"set but not executable", []string{"RBEE_WORKER_BIN_CPU=" + notExec, "PATH=" + pathDir}, "", workers.CodeWorkerBinaryNotFound},
		{"set to a directory", []string{"RBEE_WORKER_BIN=" + dir}, "", workers.CodeWorkerBinaryNotFound},
		{"nowhere", []string{"PATH=" + dir}, "", workers.CodeWorkerBinaryNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &workers.Manager{Home: t.TempDir(), Env: tt.env}
			got, err := m.ResolveBinary("cpu")
			if tt.code != "" {
				we := requireCode(t, err, tt.code)
				assert.Contains(t, we.Hint, "RBEE_WORKER_BIN_CPU")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestArgsTemplate(t *testing.T) {
	const file = `args = ["--id", "{id}", "--weights", "{model}"]
[backends.cuda]
args = ["--gpu", "{gpu}", "--port", "{port}"]
`
	tests := []struct {
		name, file string
		env        []string
		backend    string
		want       []string
		source     string
	}{
		{"default", "", nil, "cpu", workers.DefaultArgs(), "preset go"},
		{"default cuda is the rust worker", "", nil, "cuda", workers.RustArgs("cuda"), "preset rust-seed"},
		{"file top level", file, nil, "cpu", []string{"--id", "{id}", "--weights", "{model}"}, "worker-args.toml"},
		{"file per backend", file, nil, "cuda", []string{"--gpu", "{gpu}", "--port", "{port}"}, "worker-args.toml backends.cuda.args"},
		{"env beats file", file, []string{"RBEE_WORKER_ARGS=-m {model}"}, "cuda", []string{"-m", "{model}"}, "$RBEE_WORKER_ARGS"},
		{"env per backend beats env", "", []string{"RBEE_WORKER_ARGS=-m {model}", "RBEE_WORKER_ARGS_CPU=--cpu {model}"}, "cpu", []string{"--cpu", "{model}"}, "$RBEE_WORKER_ARGS_CPU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			if tt.file != "" {
				require.NoError(t, os.WriteFile(filepath.Join(home, workers.ArgsFile), []byte(tt.file), 0o644))
			}
			m := &workers.Manager{Home: home, Env: append([]string{}, tt.env...)}
			got, source, err := m.ArgsTemplate(tt.backend)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Contains(t, source, tt.source)
		})
	}
	t.Run("broken file", func(t *testing.T) {
		home := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(home, workers.ArgsFile), []byte("args = [oops"), 0o644))
		_, _, err := (&workers.Manager{Home: home, Env: []string{}}).ArgsTemplate("cpu")
		we := requireCode(t, err, workers.CodeWorkerArgsInvalid)
		assert.Contains(t, we.Message, workers.ArgsFile)
	})
}

// The template reaches the worker: a file-configured argument list is what
// the record shows and what the process got.
func TestSpawnUsesTheConfiguredTemplate(t *testing.T) {
	f := newFixture(t, "both")
	f.m.Env = append(f.m.Env, "RBEE_WORKER_ARGS=") // fall through to the file
	require.NoError(t, os.WriteFile(filepath.Join(f.home, workers.ArgsFile), []byte(
		`args = ["--mode", "health", "--worker-id", "{id}", "--port", "{port}", "--model", "{model_id}"]`), 0o644))
	res, err := f.spawn(t, 0)
	require.NoError(t, err)
	assert.Equal(t, "health", res.ReadyVia)
	assert.Equal(t, []string{"--mode", "health", "--worker-id", "worker-cpu-0", "--port", itoa(res.Port), "--model", "tiny"}, res.Args)
	log, err := os.ReadFile(res.LogPath)
	require.NoError(t, err)
	assert.Contains(t, string(log), "double health: id=worker-cpu-0 model=tiny")
}
