package workers

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rbee-go/rbee/internal/bytesize"
)

// checkMemory refuses a spawn whose model (bytes on disk × the profile's
// memory factor: 1.2 for activations and KV cache, more for a worker that
// widens the weights) does not fit the free RAM (cpu, metal: unified
// memory) or the GPU's free VRAM (cuda).
func (m *Manager) checkMemory(ctx context.Context, req SpawnRequest, mdl Model, factor float64) error {
	size, err := modelBytes(mdl.Path)
	if err != nil {
		return fmt.Errorf("measuring model %s: %w", mdl.ID, err)
	}
	need := uint64(float64(size) * factor)
	code, what := CodeInsufficientRAM, "free RAM"
	var free uint64
	if req.Backend == BackendCUDA {
		code, what = CodeInsufficientVRAM, fmt.Sprintf("free VRAM on GPU %d", req.GPU)
		free, err = m.host().FreeVRAM(ctx, req.GPU)
	} else {
		free, err = m.host().FreeRAM(ctx)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	if need > free {
		return newError(code, "stop other workers or pick a smaller model",
			"model %q needs about %s (%g × %s on disk), only %s %s",
			mdl.ID, bytesize.Format(need), factor, bytesize.Format(size), bytesize.Format(free), what)
	}
	return nil
}

// modelBytes sums the sizes of the files of a model directory (or the one
// file); symlinks (HF cache layouts) count their target's size.
func modelBytes(path string) (uint64, error) {
	var total uint64
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().IsRegular() {
			total += uint64(st.Size())
		}
		return nil
	})
	return total, err
}
