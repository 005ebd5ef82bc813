package matrix_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper/matrix"
	"github.com/rbee-go/rbee/worker/realmodel"
)

// setupLocal sets up a run of one tiny model on localhost with the real
// binaries; the environment chooses the worker binary.
func setupLocal(t *testing.T, models string) *matrix.Runner {
	t.Helper()
	r, err := matrix.Setup(context.Background(), matrix.Config{Pools: []string{"localhost:cpu"}, Models: models, WorkDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	return r
}

func TestCellPasses(t *testing.T) {
	r := setupLocal(t, "tiny-llama")
	c := r.Pools[0].RunCell(context.Background(), "cpu", r.Models[0], time.Minute)
	require.Equal(t, matrix.Pass, c.Status, c.Reason)
	assert.Equal(t, "localhost/cpu", c.Column())
	assert.Equal(t, matrix.MaxTokens, c.Tokens, "a random model never says EOS this early")
	assert.NotEmpty(t, c.Text)
	assert.Positive(t, c.ModelBytes)
	assert.Positive(t, c.WallMs)
	assert.GreaterOrEqual(t, c.WallMs, c.SpawnReadyMs+c.OverheadMs)
	var steps []string
	for _, s := range c.StepsMs {
		steps = append(steps, s.Step)
	}
	assert.Equal(t, []string{"register", "download", "preflight", "spawn", "ready", "execute", "stop", "no process left"}, steps)

	again := r.Pools[0].RunCell(context.Background(), "cpu", r.Models[0], time.Minute)
	require.Equal(t, matrix.Pass, again.Status, "a second run reuses the registered, downloaded model: %s", again.Reason)
	assert.Equal(t, c.Text, again.Text, "same request, same seed, same output across workers")
}

// The real trained stories260K passes only on llama2.c's published text.
func TestCellStories(t *testing.T) {
	r := setupLocal(t, matrix.SetStories)
	for _, m := range r.Models {
		t.Run(m.ID, func(t *testing.T) {
			c := r.Pools[0].RunCell(context.Background(), "cpu", m, time.Minute)
			require.Equal(t, matrix.Pass, c.Status, c.Reason)
			assert.Equal(t, realmodel.Continuation(), c.Text)
			assert.Equal(t, realmodel.PromptText, c.Prompt+c.Text)
			assert.Equal(t, matrix.SectionCI, c.Section())

			k, host := r.Pools[0].Keeper()
			cat, err := k.Catalog(context.Background(), host)
			require.NoError(t, err)
			e := cat.Find(m.ID)
			require.NotNil(t, e)
			if m.ID == realmodel.GGUFID {
				assert.Equal(t, "gguf", e.Format)
				assert.Equal(t, realmodel.GGUFFile, filepath.Base(e.Path), "the worker got the .gguf file")
			} else {
				assert.Equal(t, "safetensors", e.Format)
			}
			st, err := os.Stat(e.Path)
			require.NoError(t, err)
			assert.Equal(t, m.ID == realmodel.GGUFID, !st.IsDir())
		})
	}
}

func TestCellSkipsAMissingBackend(t *testing.T) {
	// metal exists only on macOS on Apple silicon, cuda never there
	backend := "metal"
	if runtime.GOOS == "darwin" {
		backend = "cuda"
	}
	r, err := matrix.Setup(context.Background(), matrix.Config{Pools: []string{"localhost:" + backend}, Models: "tiny-llama", WorkDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	c := r.Pools[0].RunCell(context.Background(), backend, r.Models[0], time.Minute)
	assert.Equal(t, matrix.Skip, c.Status, c.Reason)
	assert.Contains(t, c.Reason, "backend "+backend+" not present on localhost")
}

// prepare registers and downloads the run's first model on its first pool,
// so a cell with a short timeout spends it on the worker, not on the hub.
func prepare(t *testing.T, r *matrix.Runner) {
	t.Helper()
	k, host := r.Pools[0].Keeper()
	m := r.Models[0]
	var out map[string]any
	require.NoError(t, k.RunJSON(context.Background(), host, []string{"models", "register", m.ID, "--name", m.Name,
		"--repo", m.Repo, "--architecture", m.Architecture}, &out))
	require.NoError(t, k.RunJSON(context.Background(), host, []string{"models", "download", m.ID}, &out))
}

// A worker that exits at start: the cell fails at spawn with the hive's
// reason, and the table gets it.
func TestCellFailureIsReported(t *testing.T) {
	script := filepath.Join(t.TempDir(), "broken-worker")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho 'cannot open the model' >&2\nexit 3\n"), 0o755))
	t.Setenv("RBEE_WORKER_BIN_CPU", script)
	r := setupLocal(t, "tiny-phi3")
	c := r.Pools[0].RunCell(context.Background(), "cpu", r.Models[0], time.Minute)
	require.Equal(t, matrix.Fail, c.Status)
	assert.Equal(t, "spawn: exited before ready: cannot open the model", c.Reason, "ends with the worker's own line")
	assert.Equal(t, []string{"cannot open the model"}, c.LogTail)

	dir := t.TempDir()
	require.NoError(t, matrix.WriteResults(dir, matrix.Run{Cells: []matrix.Cell{c}}))
	b, err := os.ReadFile(filepath.Join(dir, "worker-logs", "localhost_cpu_tiny-phi3.log"))
	require.NoError(t, err)
	assert.Equal(t, "cannot open the model\n", string(b))
	b, err = os.ReadFile(filepath.Join(dir, matrix.ResultsJSON))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"log_tail": [`)
}

// A worker that never gets ready: the cell times out, and no process is left.
func TestCellTimeoutLeavesNoProcess(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := filepath.Join(dir, "stuck-worker")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = --help ] && exit 0 # the hive reads the flags once\necho $$ > "+pidFile+"\nexec sleep 600\n"), 0o755))
	t.Setenv("RBEE_WORKER_BIN_CPU", script)
	r := setupLocal(t, "tiny-phi3")
	prepare(t, r)

	start := time.Now()
	c := r.Pools[0].RunCell(context.Background(), "cpu", r.Models[0], 8*time.Second)
	assert.Less(t, time.Since(start), 30*time.Second)
	require.Equal(t, matrix.Fail, c.Status)
	assert.True(t, strings.HasPrefix(c.Reason, "spawn: "), c.Reason)

	b, err := os.ReadFile(pidFile)
	require.NoError(t, err, "the stuck worker was started")
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 10*time.Second, 50*time.Millisecond,
		"worker process %d is still running after the failed cell", pid)
}

// Cancelling the run (Ctrl-C) mid-cell still stops the worker.
func TestCellInterruptedStopsTheWorker(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := filepath.Join(dir, "stuck-worker")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = --help ] && exit 0 # the hive reads the flags once\necho $$ > "+pidFile+"\nexec sleep 600\n"), 0o755))
	t.Setenv("RBEE_WORKER_BIN_CPU", script)
	r := setupLocal(t, "tiny-llama")

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(pidFile); err == nil {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	c := r.Pools[0].RunCell(ctx, "cpu", r.Models[0], time.Minute)
	cancel()
	require.Equal(t, matrix.Fail, c.Status)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 10*time.Second, 50*time.Millisecond,
		"worker process %d is still running after the interrupted cell", pid)
}
