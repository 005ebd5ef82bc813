package workers

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// StopResult says what Stop did.
type StopResult struct {
	Record
	WasRunning bool          `json:"was_running"` // false: the process was already gone
	Killed     bool          `json:"killed"`      // SIGTERM was not enough
	Took       time.Duration `json:"took_ns"`
}

// Stop sends SIGTERM to the worker's process group, SIGKILL after timeout
// (0 = DefaultStopTimeout), waits until the process is gone and removes the
// record. A record whose process is already gone (or whose pid now belongs
// to another process) is just removed; nothing is signalled.
func (m *Manager) Stop(ctx context.Context, id string, timeout time.Duration) (StopResult, error) {
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	r, err := m.readRecord(id)
	if err != nil {
		return StopResult{}, err
	}
	start := time.Now()
	res := StopResult{Record: r}
	if alive(ctx, r.PID, r.StartTime) {
		res.WasRunning = true
		if err := signalGroup(r.PID, syscall.SIGTERM); err != nil {
			return res, fmt.Errorf("stopping %s (pid %d): %w", id, r.PID, err)
		}
		termCtx, cancel := context.WithTimeout(ctx, timeout)
		gone := waitGone(termCtx, r.PID, r.StartTime)
		cancel()
		if !gone {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("stopping %s: %w", id, err)
			}
			res.Killed = true
			m.log().Info("worker ignored SIGTERM, killing", "id", id, "pid", r.PID, "timeout", timeout)
			if err := signalGroup(r.PID, syscall.SIGKILL); err != nil {
				return res, fmt.Errorf("killing %s (pid %d): %w", id, r.PID, err)
			}
			killCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			gone = waitGone(killCtx, r.PID, r.StartTime)
			cancel()
			if !gone {
				return res, fmt.Errorf("%s (pid %d) is still running after SIGKILL", id, r.PID)
			}
		}
		// The leader is gone; whatever it left in its group goes too.
		_ = signalGroup(r.PID, syscall.SIGKILL)
	}
	if err := m.removeRecord(id); err != nil {
		return res, err
	}
	res.Took = time.Since(start)
	return res, nil
}
