package workers

import (
	"context"
	"fmt"

	"github.com/rbee-go/rbee/hive/hostinfo"
)

// SystemHost reads this machine through the hive's host probes: gopsutil
// for RAM, nvidia-smi for CUDA GPUs, GOOS/GOARCH for Metal.
type SystemHost struct {
	Prober hostinfo.Prober // the zero value probes this machine
}

// Available implements Host.
func (h SystemHost) Available(ctx context.Context, backend string, gpu int) error {
	switch backend {
	case BackendCPU:
		return nil
	case BackendMetal:
		if !h.Prober.Metal() {
			goos, goarch := h.Prober.Platform()
			return fmt.Errorf("metal needs macOS on Apple silicon, this host is %s/%s", goos, goarch)
		}
		if gpu != 0 {
			return fmt.Errorf("metal has a single device 0, not %d", gpu)
		}
		return nil
	case BackendCUDA:
		_, err := h.gpu(ctx, gpu)
		return err
	}
	return fmt.Errorf("unknown backend %q", backend)
}

func (h SystemHost) gpu(ctx context.Context, index int) (hostinfo.GPU, error) {
	gpus, err := h.Prober.GPUs(ctx)
	if err != nil {
		return hostinfo.GPU{}, fmt.Errorf("cannot list CUDA GPUs: %w", err)
	}
	for _, g := range gpus {
		if g.Index == index {
			return g, nil
		}
	}
	return hostinfo.GPU{}, fmt.Errorf("nvidia-smi lists %d GPU(s), none with index %d", len(gpus), index)
}

// FreeRAM implements Host.
func (h SystemHost) FreeRAM(ctx context.Context) (uint64, error) {
	_, free, err := h.Prober.RAM(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading free memory: %w", err)
	}
	return free, nil
}

// FreeVRAM implements Host.
func (h SystemHost) FreeVRAM(ctx context.Context, gpu int) (uint64, error) {
	g, err := h.gpu(ctx, gpu)
	return g.MemoryFreeBytes, err
}
