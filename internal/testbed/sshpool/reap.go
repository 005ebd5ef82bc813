package sshpool

import (
	"os"
	"slices"

	"github.com/shirou/gopsutil/v4/process"
)

// reapSessions kills what the pool's remote commands left running: a
// session outlives the listening sshd (it runs in its own session, and a
// cut-off client never closes it), and so do workers the pool's hive
// spawned. They are found by the RBEE_HOME every remote command gets from
// SetEnv.
func (p *Pool) reapSessions() {
	procs, err := process.Processes()
	if err != nil {
		return
	}
	marker := "RBEE_HOME=" + p.Home
	self := int32(os.Getpid())
	for _, pr := range procs {
		if pr.Pid == self {
			continue
		}
		if env, err := pr.Environ(); err == nil && slices.Contains(env, marker) {
			_ = pr.Kill()
		}
	}
}
