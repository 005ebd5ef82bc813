package matrix

import (
	"context"
	"slices"

	"github.com/shirou/gopsutil/v4/process"
)

// startTolerance: gopsutil's create time can differ by up to a second
// between readings in containers (boot time from /proc/uptime).
const startTolerance = 2000 // ms

// alive reports whether the worker process of a record still runs on this
// machine: the pid exists, is not a zombie and started when recorded.
func alive(ctx context.Context, pid int, startMS int64) bool {
	if pid <= 0 {
		return false
	}
	p, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return false
	}
	ct, err := p.CreateTimeWithContext(ctx)
	if err != nil || ct-startMS > startTolerance || startMS-ct > startTolerance {
		return false
	}
	st, err := p.StatusWithContext(ctx)
	return err != nil || !slices.Contains(st, process.Zombie)
}
