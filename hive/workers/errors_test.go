package workers_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

// Every refusal happens before any process starts and leaves no record.
func TestSpawnRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *fixture)
		req     workers.SpawnRequest
		code    workers.Code
		message string
	}{
		{"unknown model", nil, workers.SpawnRequest{Backend: "cpu", ModelID: "nope"},
			workers.CodeModelNotFound, `"nope" is not in this pool's catalog`},
		{"not downloaded", func(f *fixture) {
			m := f.catalog["tiny"]
			m.Downloaded = false
			f.catalog["tiny"] = m
		}, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny"}, workers.CodeModelNotDownloaded, "not downloaded"},
		{"files missing", func(f *fixture) { require.NoError(t, os.RemoveAll(f.catalog["tiny"].Path)) },
			workers.SpawnRequest{Backend: "cpu", ModelID: "tiny"}, workers.CodeModelNotDownloaded, "files are missing"},
		{"files changed since the download", func(f *fixture) {
			m := f.catalog["tiny"]
			m.Changed = []string{"model.safetensors (missing)"}
			f.catalog["tiny"] = m
		}, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny"}, workers.CodeModelNotDownloaded, "files changed since: model.safetensors (missing)"},
		{"backend not in the model's backends", nil, workers.SpawnRequest{Backend: "metal", ModelID: "tiny"},
			workers.CodeBackendUnsupported, "supports backends [cpu, cuda], not metal"},
		{"backend not on this host", func(f *fixture) { f.host.unavailable = errors.New("no nvidia-smi") },
			workers.SpawnRequest{Backend: "cuda", ModelID: "tiny"}, workers.CodeBackendUnavailable, "not available on this host"},
		{"not enough RAM", func(f *fixture) { f.host.ram = 1100 }, // model: 1002 bytes × 1.2 > 1100
			workers.SpawnRequest{Backend: "cpu", ModelID: "tiny"}, workers.CodeInsufficientRAM, "needs about 1.2 KiB"},
		{"not enough RAM for the KV cache of the context", func(f *fixture) {
			f.host.ram = 1300 // the weights alone (1002 bytes × 1.2) would fit
			require.NoError(t, os.WriteFile(filepath.Join(f.catalog["tiny"].Path, "config.json"),
				[]byte(`{"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"hidden_size":64}`), 0o644))
		}, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Context: 10}, // 10 × 2 × 2 × 16 × 2 × 4 = 5120 bytes
			workers.CodeInsufficientRAM, "+ 5.0 KiB of KV cache for 10 tokens"},
		{"negative context", nil, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Context: -1},
			workers.CodeInvalidRequest, "--context must be 0 or more"},
		{"not enough VRAM", func(f *fixture) { f.host.vram = 1100 },
			workers.SpawnRequest{Backend: "cuda", ModelID: "tiny", GPU: 1}, workers.CodeInsufficientVRAM, "free VRAM on GPU 1"},
		{"binary missing", func(f *fixture) { f.m.Env = append(f.m.Env, "RBEE_WORKER_BIN=/nonexistent/llm-worker-rbee") },
			workers.SpawnRequest{Backend: "cpu", ModelID: "tiny"}, workers.CodeWorkerBinaryNotFound, "RBEE_WORKER_BIN=/nonexistent/llm-worker-rbee is not usable"},
		{"binary not on PATH", func(f *fixture) {
			f.m.Env = append(f.m.Env, "RBEE_WORKER_BIN=", "PATH="+t.TempDir())
		}, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny"}, workers.CodeWorkerBinaryNotFound, "llm-worker-rbee not found on PATH"},
		{"bad argument template", func(f *fixture) { f.m.Env = append(f.m.Env, "RBEE_WORKER_ARGS=--model {modle}") },
			workers.SpawnRequest{Backend: "cpu", ModelID: "tiny"}, workers.CodeWorkerArgsInvalid, "unknown placeholder {modle}"},
		{"unknown backend", nil, workers.SpawnRequest{Backend: "tpu", ModelID: "tiny"},
			workers.CodeInvalidRequest, `unknown backend "tpu"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "both")
			if tt.setup != nil {
				tt.setup(f)
			}
			tt.req.Port = freePort(t)
			_, err := f.m.Spawn(context.Background(), tt.req)
			we := requireCode(t, err, tt.code)
			assert.Contains(t, we.Error(), tt.message)
			assert.Contains(t, we.Error(), string(tt.code)+": ")
			assert.Empty(t, f.pids(t), "a process was started")
			entries, _ := os.ReadDir(filepath.Join(f.home, "workers"))
			for _, e := range entries {
				assert.NotEqual(t, ".json", filepath.Ext(e.Name()), "record %s left behind", e.Name())
			}
		})
	}
}

func TestStartupFailedWhenTheBinaryCannotRun(t *testing.T) {
	f := newFixture(t, "both")
	bad := filepath.Join(t.TempDir(), "llm-worker-rbee")
	require.NoError(t, os.WriteFile(bad, []byte("not a program"), 0o755))
	f.m.Env = append(f.m.Env, "RBEE_WORKER_BIN_CPU="+bad)
	_, err := f.spawn(t, 5*time.Second)
	requireCode(t, err, workers.CodeWorkerStartupFailed)
	f.requireNoRecord(t, "worker-cpu-0")
}
