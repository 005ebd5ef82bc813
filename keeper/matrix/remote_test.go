package matrix_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper/matrix"
	"github.com/rbee-go/rbee/steps/harness"
	"github.com/rbee-go/rbee/steps/sshpool"
)

// A pool named in the operator's pools file is reached with the operator's
// SSH settings (HOME/.ssh/known_hosts, the pool's identity file), and its
// hive downloads from the run's hub through env HF_ENDPOINT=… on the remote
// command line — the path real homelab pools take.
func TestRemotePoolFromThePoolsFile(t *testing.T) {
	bins, err := harness.Build()
	require.NoError(t, err)
	key := sshpool.ClientKeyT(t)
	pool := sshpool.StartT(t, sshpool.Options{Name: "lab", ClientKey: key, BinDir: bins.Dir,
		Env: map[string]string{"HOME": t.TempDir()}}) // no HF_ENDPOINT here: the matrix must pass it

	operator := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(operator, ".ssh"), 0o700))
	require.NoError(t, sshpool.WriteKnownHosts(filepath.Join(operator, ".ssh", "known_hosts"), pool))
	poolsFile := filepath.Join(operator, "pools.toml")
	require.NoError(t, os.WriteFile(poolsFile, fmt.Appendf(nil,
		"[[pool]]\nname = \"lab\"\nhost = %q\nport = %d\nuser = %q\nidentity_file = %q\nbackends = [\"cpu\"]\n",
		pool.Host, pool.Port, pool.User, key.Path), 0o600))
	t.Setenv("HOME", operator)
	t.Setenv("RBEE_POOLS", poolsFile)
	t.Setenv("SSH_AUTH_SOCK", "")

	r, err := matrix.Setup(context.Background(), matrix.Config{Pools: []string{"lab:cpu"}, Models: "tiny-mistral",
		WorkDir: t.TempDir(), Bins: bins})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	require.Len(t, r.Pools, 1)
	assert.Equal(t, "remote", r.Pools[0].Kind)

	c := r.Pools[0].RunCell(context.Background(), "cpu", r.Models[0], 2*time.Minute)
	require.Equal(t, matrix.Pass, c.Status, c.Reason)
	assert.Equal(t, "lab/cpu", c.Column())
	assert.Positive(t, c.ModelBytes, "downloaded from the run's mirror")

	// The operator's own worker on the pool is left alone: the cell fails
	// and the worker still runs afterwards.
	k, host := r.Pools[0].Keeper()
	var spawned map[string]any
	require.NoError(t, k.RunJSON(context.Background(), host, []string{"worker", "spawn", "cpu", "--model", "tiny-mistral"}, &spawned))
	t.Cleanup(func() {
		var out map[string]any
		_ = k.RunJSON(context.Background(), host, []string{"worker", "stop", "worker-cpu-0"}, &out)
	})
	c = r.Pools[0].RunCell(context.Background(), "cpu", r.Models[0], 2*time.Minute)
	require.Equal(t, matrix.Fail, c.Status)
	assert.Contains(t, c.Reason, "worker-cpu-0 already runs model tiny-mistral")
	var list []map[string]any
	require.NoError(t, k.RunJSON(context.Background(), host, []string{"worker", "list"}, &list))
	require.Len(t, list, 1)
	assert.Equal(t, "ready", list[0]["state"])
}
