package matrix

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rbee-go/rbee/hive/workers"
	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/rustworker"
)

// TestBed tunes the pools a run starts itself (localhost with a private
// home, harness pools); pools of the operator are never touched.
type TestBed struct {
	// WorkerProfiles is written as <home>/worker-args.toml of each such pool.
	WorkerProfiles string
	// FakeGPU gives each such pool a "cuda" device: the test bed's fake
	// nvidia-smi first on its PATH, and the directory in which the Rust
	// worker stand-in's cuda build registers itself.
	FakeGPU bool
}

// RustSeedProfiles is a worker-args.toml running the Rust worker stand-in
// of bins for cuda and metal (the cpu backend keeps the Go worker).
func RustSeedProfiles(bins *harness.Bins) string {
	var b strings.Builder
	for _, backend := range []string{workers.BackendCUDA, workers.BackendMetal} {
		fmt.Fprintf(&b, "[backends.%s]\nprofile = %q\nbin = %q\n\n", backend, workers.PresetRustSeed,
			filepath.Join(bins.RustSeedDir(), workers.RustBinary(backend)))
	}
	return b.String()
}

// apply prepares a private pool: its profiles in home, and with FakeGPU
// the environment its commands get (PATH first in vars is the pool's).
func (tb TestBed) apply(dir, home string, vars map[string]string, basePath string) error {
	if tb.WorkerProfiles != "" {
		if err := os.MkdirAll(home, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(home, workers.ArgsFile), []byte(tb.WorkerProfiles), 0o644); err != nil {
			return fmt.Errorf("test bed: %w", err)
		}
	}
	if tb.FakeGPU {
		gpu, err := harness.NewFakeGPU(filepath.Join(dir, "fake-gpu"))
		if err != nil {
			return err
		}
		vars["PATH"] = gpu.BinDir + string(os.PathListSeparator) + basePath
		vars[rustworker.EnvFakeGPU] = gpu.Dir
	}
	return nil
}
