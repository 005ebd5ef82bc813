package keeper_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// TestOverSSH runs the keeper's typed results, preflight and pool git
// against a real OpenSSH pool on loopback: the same code paths as localhost.
func TestOverSSH(t *testing.T) {
	bins, err := harness.Build()
	require.NoError(t, err)
	key := sshpool.ClientKeyT(t)
	pool := sshpool.StartT(t, sshpool.Options{Name: "ssh-keeper", ClientKey: key, BinDir: bins.Dir})
	repo := filepath.Join(t.TempDir(), "repo")
	out, err := exec.Command("git", "init", "-q", "-b", "main", repo).CombinedOutput()
	require.NoError(t, err, "git is needed (make deps installs it): %s", out)

	dialer := keeper.NewSSHDialer(sshtransport.Options{KnownHostsFile: pool.KnownHosts, SSHConfigFile: "none", AgentSocket: "none"})
	k := &keeper.Keeper{Remote: dialer, Pools: &keeper.Pools{Pools: []keeper.Pool{{
		Name: "remote", Host: pool.Host, Port: pool.Port, User: pool.User, IdentityFile: key.Path,
		HiveBin: bins.Path(harness.Hive), Home: pool.Home, Repo: repo, Backends: []string{"cpu"},
	}}}}
	t.Cleanup(func() { _ = k.Close() })
	ctx := context.Background()

	// Separate buffers: two SSH copy goroutines must not share one bytes.Buffer.
	var stdout, stderr bytes.Buffer
	res := k.RunOne(ctx, "remote", []string{"models", "register", "it's", "--name", "x", "--repo", "o/n", "--architecture", "llama"},
		keeper.Streams{Stdout: &stdout, Stderr: &stderr})
	require.NoError(t, res.Err)
	assert.Equal(t, 1, res.ExitCode, "the quote reaches the hive literally and is refused there")
	assert.Contains(t, stderr.String(), `invalid model id "it's"`)

	res = k.RunOne(ctx, "remote", []string{"models", "register", "qwen-0.5b", "--name", "Qwen; $(reboot)", "--repo", "Qwen/Qwen2.5-0.5B-Instruct", "--architecture", "qwen"}, keeper.Streams{})
	require.NoError(t, res.Err)
	require.Equal(t, 0, res.ExitCode, string(res.Stderr))

	c, err := k.Catalog(ctx, "remote")
	require.NoError(t, err)
	local, err := catalog.ForHome(pool.Home).Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, local, c)
	assert.Equal(t, "Qwen; $(reboot)", c.Models[0].Name)

	r := k.Preflight(ctx, "remote")
	assert.Equal(t, "ssh", r.Transport)
	assert.Equal(t, "0.1.0", r.HiveVersion)
	require.NotNil(t, r.Status)
	assert.Equal(t, 1, r.Status.Models.Registered)

	// One buffer for both streams, as a caller may well pass: the keeper serializes it.
	var gitOut bytes.Buffer
	g := k.Git(ctx, "remote", "status", keeper.Streams{Stdout: &gitOut, Stderr: &gitOut})
	require.NoError(t, g.Err)
	assert.Equal(t, 0, g.ExitCode, gitOut.String())
	assert.Contains(t, gitOut.String(), "On branch main")
}
