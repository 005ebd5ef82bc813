package hostinfo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// ComputeAppsArgs is the query listing the processes using a CUDA GPU.
func ComputeAppsArgs() []string {
	return []string{"--query-compute-apps=pid,used_memory", "--format=csv"}
}

// ComputeApps asks nvidia-smi which processes hold GPU memory: pid → bytes.
func (p Prober) ComputeApps(ctx context.Context) (map[int]uint64, error) {
	out, err := p.nvidiaSMI(ctx, ComputeAppsArgs())
	if err != nil {
		return nil, err
	}
	return ParseComputeApps(out)
}

// ParseComputeApps parses the CSV of ComputeAppsArgs: a header, then
// "pid, used MiB" rows ("1234, 512 MiB").
func ParseComputeApps(out string) (map[int]uint64, error) {
	apps := map[int]uint64{}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		line = strings.TrimSpace(line)
		if i == 0 || line == "" || strings.HasPrefix(line, "pid") {
			continue // the header
		}
		pidText, memText, ok := strings.Cut(line, ",")
		pid, err1 := strconv.Atoi(strings.TrimSpace(pidText))
		mib, err2 := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(memText), "MiB")), 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("nvidia-smi: unexpected compute-apps line %q", line)
		}
		apps[pid] += mib << 20
	}
	return apps, nil
}
