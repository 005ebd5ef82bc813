package workers_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

// TestSpawnGGUF: a GGUF model's catalog path is its one .gguf file; the
// memory preflight counts that file alone (not the rest of the model
// folder) and the worker gets the file as --model.
func TestSpawnGGUF(t *testing.T) {
	f := newFixture(t, "callback")
	dir := filepath.Join(f.home, "models", "story")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	gguf := filepath.Join(dir, "story.Q4_K_M.gguf")
	require.NoError(t, os.WriteFile(gguf, make([]byte, 2000), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "story.Q8_0.gguf.incomplete"), make([]byte, 1<<20), 0o644))
	f.catalog["story"] = workers.Model{ID: "story", Path: gguf, Downloaded: true, Backends: []string{"cpu"}}
	spawn := func() (workers.SpawnResult, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return f.m.Spawn(ctx, workers.SpawnRequest{Backend: "cpu", ModelID: "story", Port: freePort(t), Wait: 20 * time.Second})
	}

	f.host.ram = 2300 // 2000 bytes × 1.2 do not fit
	_, err := spawn()
	we := requireCode(t, err, workers.CodeInsufficientRAM)
	assert.Contains(t, we.Error(), "1.2 × 2.0 KiB on disk")

	f.host.ram = 2500 // the file fits; the folder (1 MiB more) would not
	res, err := spawn()
	require.NoError(t, err)
	i := slices.Index(res.Record.Args, "--model")
	require.GreaterOrEqual(t, i, 0)
	assert.Equal(t, gguf, res.Record.Args[i+1])
	assert.Equal(t, gguf, res.Record.ModelPath)
	_, err = f.m.Stop(context.Background(), res.ID, 5*time.Second)
	require.NoError(t, err)
	f.requireNoProcess(t)
}
