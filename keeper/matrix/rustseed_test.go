package matrix_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/keeper/matrix"
)

// setupRustSeed is a localhost pool with a fake GPU whose cuda worker is
// the Rust worker stand-in, unless profiles says otherwise.
func setupRustSeed(t *testing.T, models, profiles string) (*matrix.Runner, *harness.Bins) {
	t.Helper()
	bins, err := harness.Build()
	require.NoError(t, err)
	if profiles == "" {
		profiles = matrix.RustSeedProfiles(bins)
	}
	r, err := matrix.Setup(context.Background(), matrix.Config{Pools: []string{"localhost:cuda"}, Models: models,
		WorkDir: t.TempDir(), Bins: bins, TestBed: matrix.TestBed{WorkerProfiles: profiles, FakeGPU: true}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	return r, bins
}

// On the seed-era Rust worker only Llama passes; every other cell says why
// in the worker's own words.
func TestCellsOnTheRustWorker(t *testing.T) {
	r, _ := setupRustSeed(t, "tiny-llama,tiny-qwen2,tiny-phi3,tiny-mistral", "")
	want := map[string]string{
		"tiny-llama":   "",
		"tiny-qwen2":   "execute: run 1: worker error INFERENCE_FAILED: cannot broadcast [",
		"tiny-mistral": "execute: run 1: worker error INFERENCE_FAILED: cannot broadcast [",
		"tiny-phi3":    "spawn: exited before ready: Unsupported model architecture: phi3",
	}
	for _, m := range r.Models {
		c := r.Pools[0].RunCell(context.Background(), "cuda", m, 2*time.Minute)
		if want[m.ID] == "" {
			assert.Equal(t, matrix.Pass, c.Status, "%s: %s", m.ID, c.Reason)
			assert.Equal(t, matrix.MaxTokens, c.Tokens)
			continue
		}
		assert.Equal(t, matrix.Fail, c.Status, m.ID)
		assert.Contains(t, c.Reason, want[m.ID], m.ID)
		if m.ID == "tiny-phi3" {
			assert.Contains(t, c.LogTail, "Error: Unsupported model architecture: phi3", "ANSI stripped, whole tail kept")
		}
	}
}

// The CPU-only main binary configured for cuda is refused before it runs.
func TestCellMainBinaryOnCUDA(t *testing.T) {
	bins, err := harness.Build()
	require.NoError(t, err)
	profiles := "[backends.cuda]\nprofile = \"rust-seed\"\nbin = \"" + filepath.Join(bins.RustSeedDir(), "llm-worker-rbee") + "\"\n" +
		"args = [\"--worker-id\", \"{id}\", \"--model\", \"{model}\", \"--port\", \"{port}\", \"--callback-url\", \"{callback}\"]\n"
	r, _ := setupRustSeed(t, "tiny-llama", profiles)
	c := r.Pools[0].RunCell(context.Background(), "cuda", r.Models[0], 2*time.Minute)
	require.Equal(t, matrix.Fail, c.Status)
	assert.Contains(t, c.Reason, "spawn: ")
	assert.Contains(t, c.Reason, "BACKEND_BINARY_MISMATCH")
}

// A "cuda" build that really runs on the CPU (a build without --features
// cuda, copied under the cuda name) is caught: nvidia-smi does not list it.
func TestCellCatchesAGPULessRun(t *testing.T) {
	bins, err := harness.Build()
	require.NoError(t, err)
	fake, err := harness.MislabelledCUDA(t.TempDir(), bins)
	require.NoError(t, err)
	r, _ := setupRustSeed(t, "tiny-llama", "[backends.cuda]\nbin = \""+fake+"\"\n")
	c := r.Pools[0].RunCell(context.Background(), "cuda", r.Models[0], 2*time.Minute)
	require.Equal(t, matrix.Fail, c.Status)
	assert.Contains(t, c.Reason, "gpu: worker did not use the GPU (nvidia-smi lists no process")
}
