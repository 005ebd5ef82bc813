package sshpool_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/sshpool"
)

// sshRun runs a command on the pool with the OpenSSH client, as an
// independent check of what the harness set up.
func sshRun(t *testing.T, p *sshpool.Pool, key *sshpool.Key, cmd string) (string, error) {
	t.Helper()
	out, err := exec.Command("ssh", "-F", "none", "-i", key.Path, "-p", itoa(p.Port),
		"-o", "UserKnownHostsFile="+p.KnownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=5", p.User+"@"+p.Host, cmd).CombinedOutput()
	return string(out), err
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestPoolServesCommandsWithItsEnvironment(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "rbee-hive"), []byte("#!/bin/sh\necho hive \"$RBEE_HOME\" \"$HOME\" \"$EXTRA\"\n"), 0o755))
	key := sshpool.ClientKeyT(t)
	p := sshpool.StartT(t, sshpool.Options{Name: "a", ClientKey: key, BinDir: bin, Env: map[string]string{"EXTRA": "x y"}})
	out, err := sshRun(t, p, key, "rbee-hive")
	require.NoError(t, err, out)
	assert.Equal(t, "hive "+p.Home+" "+filepath.Join(p.Dir, "user")+" x y\n", out)
	assert.Equal(t, "127.0.0.1", p.Host)
}

func TestPoolWithoutBinDirHasNoHive(t *testing.T) {
	key := sshpool.ClientKeyT(t)
	p := sshpool.StartT(t, sshpool.Options{Name: "bare", ClientKey: key})
	out, err := sshRun(t, p, key, "rbee-hive status")
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, out)
	assert.Equal(t, 127, ee.ExitCode())
}

func TestPoolRefusesOtherKeysAndStops(t *testing.T) {
	key := sshpool.ClientKeyT(t)
	other := sshpool.ClientKeyT(t)
	p, err := sshpool.Start(context.Background(), sshpool.Options{Name: "s", Dir: t.TempDir(), ClientKey: key})
	require.NoError(t, err)
	_, err = sshRun(t, p, other, "true")
	require.Error(t, err)
	require.NoError(t, p.Stop())
	require.NoError(t, p.Stop())
	_, err = net.DialTimeout("tcp", p.Addr(), time.Second)
	assert.Error(t, err, "sshd still listening after Stop")
}

func TestBlackholeNeverSendsABanner(t *testing.T) {
	b, err := sshpool.NewBlackhole()
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	c, err := net.Dial("tcp", b.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(200*time.Millisecond)))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
}

func TestNetnsPoolCanBeCutAndRestored(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, sshpool.NetnsAvailable(ctx), "network namespaces need root and iproute2")
	key := sshpool.ClientKeyT(t)
	p := sshpool.StartT(t, sshpool.Options{Name: "ns", ClientKey: key, Netns: true})
	assert.True(t, strings.HasPrefix(p.Host, "169.254."), p.Host)
	assert.True(t, strings.HasPrefix(p.Gateway, "169.254."), p.Gateway)
	assert.NotEqual(t, p.Host, p.Gateway)
	out, err := sshRun(t, p, key, "echo up")
	require.NoError(t, err, out)

	require.NoError(t, p.Cut(ctx))
	_, err = net.DialTimeout("tcp", p.Addr(), 300*time.Millisecond)
	require.Error(t, err, "pool reachable after Cut")
	require.NoError(t, p.Restore(ctx))
	out, err = sshRun(t, p, key, "echo again")
	require.NoError(t, err, out)
	assert.Equal(t, "again\n", out)
}

// TestStopLeavesNoRemoteProcess: a remote command that detached (as a
// spawned worker does) or whose client vanished is gone after Stop.
func TestStopLeavesNoRemoteProcess(t *testing.T) {
	key := sshpool.ClientKeyT(t)
	p, err := sshpool.Start(context.Background(), sshpool.Options{Name: "r", Dir: t.TempDir(), ClientKey: key})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Stop() })
	pidFile := filepath.Join(p.Home, "detached.pid")
	out, err := sshRun(t, p, key, "setsid sh -c 'echo $$ > "+pidFile+"; exec sleep 300' </dev/null >/dev/null 2>&1 &")
	require.NoError(t, err, out)
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	}, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, syscall.Kill(pid, 0), "the detached process should run before Stop")

	require.NoError(t, p.Stop())
	require.Eventually(t, func() bool {
		return syscall.Kill(pid, 0) != nil || isZombie(pid)
	}, 5*time.Second, 20*time.Millisecond, "process %d outlived the pool", pid)
}

// isZombie: a killed process whose parent (init in a container) has not
// reaped it yet is gone for our purpose.
func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}
