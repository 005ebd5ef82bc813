package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/mem"
)

// SystemHost reads this machine: gopsutil for RAM, nvidia-smi for CUDA GPUs,
// GOOS/GOARCH for Metal.
type SystemHost struct {
	NvidiaSMI string // nvidia-smi command; "" = "nvidia-smi" on PATH
	GOOS      string // "" = runtime.GOOS
	GOARCH    string // "" = runtime.GOARCH
}

// GPUMemory is one line of nvidia-smi's answer.
type GPUMemory struct {
	Index     int
	FreeBytes uint64
}

func (h SystemHost) smi() string {
	if h.NvidiaSMI != "" {
		return h.NvidiaSMI
	}
	return "nvidia-smi"
}

// Available implements Host.
func (h SystemHost) Available(ctx context.Context, backend string, gpu int) error {
	switch backend {
	case BackendCPU:
		return nil
	case BackendMetal:
		goos, goarch := h.GOOS, h.GOARCH
		if goos == "" {
			goos = runtime.GOOS
		}
		if goarch == "" {
			goarch = runtime.GOARCH
		}
		if goos != "darwin" || goarch != "arm64" {
			return fmt.Errorf("metal needs macOS on Apple silicon, this host is %s/%s", goos, goarch)
		}
		if gpu != 0 {
			return fmt.Errorf("metal has a single device 0, not %d", gpu)
		}
		return nil
	case BackendCUDA:
		gpus, err := h.GPUs(ctx)
		if err != nil {
			return err
		}
		for _, g := range gpus {
			if g.Index == gpu {
				return nil
			}
		}
		return fmt.Errorf("nvidia-smi lists %d GPU(s), none with index %d", len(gpus), gpu)
	}
	return fmt.Errorf("unknown backend %q", backend)
}

// GPUs asks nvidia-smi for the CUDA GPUs and their free memory.
func (h SystemHost) GPUs(ctx context.Context) ([]GPUMemory, error) {
	path, err := exec.LookPath(h.smi())
	if err != nil {
		return nil, fmt.Errorf("nvidia-smi not found (no NVIDIA driver on this host): %w", err)
	}
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "--query-gpu=index,memory.free", "--format=csv,noheader,nounits")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("nvidia-smi failed: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseNvidiaSMI(out.String())
}

// parseNvidiaSMI reads "index, free MiB" lines.
func parseNvidiaSMI(out string) ([]GPUMemory, error) {
	var gpus []GPUMemory
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		idx, free, ok := strings.Cut(line, ",")
		if !ok {
			return nil, fmt.Errorf("nvidia-smi: unexpected line %q", line)
		}
		i, err1 := strconv.Atoi(strings.TrimSpace(idx))
		mib, err2 := strconv.ParseUint(strings.TrimSpace(free), 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("nvidia-smi: unexpected line %q: %w", line, err)
		}
		gpus = append(gpus, GPUMemory{Index: i, FreeBytes: mib << 20})
	}
	return gpus, nil
}

// FreeRAM implements Host.
func (h SystemHost) FreeRAM(ctx context.Context) (uint64, error) {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading free memory: %w", err)
	}
	return vm.Available, nil
}

// FreeVRAM implements Host.
func (h SystemHost) FreeVRAM(ctx context.Context, gpu int) (uint64, error) {
	gpus, err := h.GPUs(ctx)
	if err != nil {
		return 0, err
	}
	for _, g := range gpus {
		if g.Index == gpu {
			return g.FreeBytes, nil
		}
	}
	return 0, fmt.Errorf("nvidia-smi lists no GPU %d", gpu)
}
