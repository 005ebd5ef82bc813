package workers

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"syscall"
	"time"

	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// startTimeTolerance: gopsutil derives CreateTime from the boot time, which
// in containers is computed from /proc/uptime at whole-second precision, so
// two readings of the same process can differ by up to a second. A reused
// pid would also need to be reused within that window to fool the check.
const startTimeTolerance = 2000 // ms

// detach makes the worker the leader of its own session (and process
// group): it outlives the CLI and the whole group can be signalled.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// createTime is the process's start time in ms since the epoch.
func createTime(ctx context.Context, pid int) (int64, error) {
	p, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return 0, err
	}
	return p.CreateTimeWithContext(ctx)
}

// alive reports whether the process that the record describes still runs:
// the pid exists, is not a zombie, and started when the record says.
func alive(ctx context.Context, pid int, startMS int64) bool {
	if pid <= 0 {
		return false
	}
	p, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return false
	}
	ct, err := p.CreateTimeWithContext(ctx)
	if err != nil {
		return false
	}
	if d := ct - startMS; d > startTimeTolerance || d < -startTimeTolerance {
		return false
	}
	st, err := p.StatusWithContext(ctx)
	if err != nil {
		// Reaped between the reads, or status unreadable: ask the kernel.
		err := syscall.Kill(pid, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
	return !slices.Contains(st, process.Zombie)
}

// signalGroup sends sig to the worker's process group (pgid = pid, since
// the worker is a session leader); "no such process" is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// waitGone polls, with a short backoff, until the process is gone or ctx
// ends; it reports whether it is gone.
func waitGone(ctx context.Context, pid int, startMS int64) bool {
	delay := time.Millisecond
	for {
		if !alive(ctx, pid, startMS) {
			return true
		}
		select {
		case <-ctx.Done():
			return !alive(context.Background(), pid, startMS)
		case <-time.After(delay):
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// listensOn reports whether pid, or one of its children, listens on port.
// Where the platform cannot list sockets it answers true: /health is then
// all there is to go on.
func listensOn(ctx context.Context, pid, port int) bool {
	pids := []int32{int32(pid)}
	if p, err := process.NewProcessWithContext(ctx, int32(pid)); err == nil {
		if kids, err := p.ChildrenWithContext(ctx); err == nil {
			for _, k := range kids {
				pids = append(pids, k.Pid)
			}
		}
	}
	for _, id := range pids {
		conns, err := psnet.ConnectionsPidWithContext(ctx, "tcp", id)
		if err != nil {
			if id != int32(pid) {
				continue
			}
			exists, _ := process.PidExistsWithContext(ctx, id)
			return exists // cannot list sockets here: trust /health while it lives
		}
		for _, c := range conns {
			if c.Status == "LISTEN" && int(c.Laddr.Port) == port {
				return true
			}
		}
	}
	return false
}
