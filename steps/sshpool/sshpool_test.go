package sshpool_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/steps/sshpool"
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
