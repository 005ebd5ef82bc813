// Package hostinfo reports the facts of the machine a hive runs on: host,
// CPUs, memory, free disk of the home, and which compute backends are usable.
// Facts come from gopsutil so the same code works on Linux and macOS.
package hostinfo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
)

// Info is a snapshot of the host.
type Info struct {
	Hostname          string   `json:"hostname"`
	OS                string   `json:"os"`
	Arch              string   `json:"arch"`
	CPUs              int      `json:"cpus"`
	RAMTotalBytes     uint64   `json:"ram_total_bytes"`
	RAMAvailableBytes uint64   `json:"ram_available_bytes"`
	DiskPath          string   `json:"disk_path"`
	DiskFreeBytes     uint64   `json:"disk_free_bytes"`
	Backends          []string `json:"backends"`
	GPUs              []GPU    `json:"gpus"`
	Warnings          []string `json:"warnings,omitempty"` // probes that failed (e.g. nvidia-smi error)
}

// GPU is one CUDA device as nvidia-smi reports it.
type GPU struct {
	Index            int    `json:"index"`
	Name             string `json:"name"`
	MemoryTotalBytes uint64 `json:"memory_total_bytes"`
	MemoryFreeBytes  uint64 `json:"memory_free_bytes"`
}

// Prober collects Info; the zero value probes this machine.
type Prober struct {
	NvidiaSMI string // nvidia-smi command; "" = "nvidia-smi" on PATH
	GOOS      string // "" = runtime.GOOS (tests set these to probe metal logic)
	GOARCH    string
}

// NvidiaSMIArgs is the query the CUDA probe runs.
func NvidiaSMIArgs() []string {
	return []string{"--query-gpu=index,name,memory.total,memory.free", "--format=csv,noheader,nounits"}
}

// Collect gathers the facts; diskPath is the directory whose free space
// matters (the hive's home, or its nearest existing parent).
func (p Prober) Collect(ctx context.Context, diskPath string) (Info, error) {
	info := Info{OS: p.goos(), Arch: p.goarch(), DiskPath: diskPath}
	var err error
	if info.Hostname, err = os.Hostname(); err != nil {
		return info, fmt.Errorf("hostname: %w", err)
	}
	if info.CPUs, err = cpu.CountsWithContext(ctx, true); err != nil {
		info.CPUs = runtime.NumCPU()
	}
	if info.RAMTotalBytes, info.RAMAvailableBytes, err = p.RAM(ctx); err != nil {
		return info, fmt.Errorf("memory: %w", err)
	}
	if diskPath != "" {
		du, err := disk.UsageWithContext(ctx, existingParent(diskPath))
		if err != nil {
			return info, fmt.Errorf("disk usage of %s: %w", diskPath, err)
		}
		info.DiskFreeBytes = du.Free
	}
	info.Backends = []string{"cpu"}
	if p.Metal() {
		info.Backends = append(info.Backends, "metal")
	}
	gpus, err := p.GPUs(ctx)
	switch {
	case err == nil && len(gpus) > 0:
		info.GPUs = gpus
		info.Backends = append(info.Backends, "cuda")
	case err != nil && !errors.Is(err, exec.ErrNotFound):
		info.Warnings = append(info.Warnings, err.Error())
	}
	if info.GPUs == nil {
		info.GPUs = []GPU{}
	}
	return info, nil
}

// GPUs asks nvidia-smi for the CUDA devices; exec.ErrNotFound when it is absent.
func (p Prober) GPUs(ctx context.Context) ([]GPU, error) {
	out, err := p.nvidiaSMI(ctx, NvidiaSMIArgs())
	if err != nil {
		return nil, err
	}
	return ParseNvidiaSMI(out)
}

// nvidiaSMI runs nvidia-smi with args and returns its stdout.
func (p Prober) nvidiaSMI(ctx context.Context, args []string) (string, error) {
	bin := p.NvidiaSMI
	if bin == "" {
		bin = "nvidia-smi"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("nvidia-smi: %w", exec.ErrNotFound)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("nvidia-smi failed: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// ParseNvidiaSMI parses `index, name, memory.total, memory.free` lines (MiB).
func ParseNvidiaSMI(out string) ([]GPU, error) {
	gpus := []GPU{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 4 {
			return nil, fmt.Errorf("nvidia-smi: unexpected line %q", line)
		}
		// The name may itself hold commas: index first, the two numbers last.
		n := len(f)
		idx, err1 := strconv.Atoi(strings.TrimSpace(f[0]))
		total, err2 := strconv.ParseUint(strings.TrimSpace(f[n-2]), 10, 64)
		free, err3 := strconv.ParseUint(strings.TrimSpace(f[n-1]), 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("nvidia-smi: unexpected line %q: %w", line, err)
		}
		gpus = append(gpus, GPU{Index: idx, Name: strings.TrimSpace(strings.Join(f[1:n-2], ",")),
			MemoryTotalBytes: total << 20, MemoryFreeBytes: free << 20})
	}
	return gpus, nil
}

// RAM returns the total memory and the memory available to new processes.
func (p Prober) RAM(ctx context.Context) (total, available uint64, err error) {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, 0, err
	}
	return vm.Total, vm.Available, nil
}

// Platform returns the GOOS and GOARCH probed: the overrides, else this
// machine's.
func (p Prober) Platform() (goos, goarch string) { return p.goos(), p.goarch() }

// Metal reports whether the platform has Metal: macOS on Apple silicon.
func (p Prober) Metal() bool { return p.goos() == "darwin" && p.goarch() == "arm64" }

func (p Prober) goos() string {
	if p.GOOS != "" {
		return p.GOOS
	}
	return runtime.GOOS
}

func (p Prober) goarch() string {
	if p.GOARCH != "" {
		return p.GOARCH
	}
	return runtime.GOARCH
}

// existingParent walks up until a path exists, so a home not yet created
// still reports the free space of the disk it will live on.
func existingParent(path string) string {
	for {
		if _, err := os.Stat(path); err == nil {
			return path
		}
		parent := filepath.Dir(filepath.Clean(path))
		if parent == path {
			return path
		}
		path = parent
	}
}
