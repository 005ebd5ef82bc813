package matrix_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/hive/workers"
	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper/matrix"
	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/tinymodel"
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

	operatorKnows(t, "lab", pool, key)

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

// operatorKnows makes pool the operator's pool name: a pools file entry,
// its host key in ~/.ssh/known_hosts, no agent.
func operatorKnows(t *testing.T, name string, pool *sshpool.Pool, key *sshpool.Key) {
	t.Helper()
	operator := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(operator, ".ssh"), 0o700))
	require.NoError(t, sshpool.WriteKnownHosts(filepath.Join(operator, ".ssh", "known_hosts"), pool))
	poolsFile := filepath.Join(operator, "pools.toml")
	require.NoError(t, os.WriteFile(poolsFile, fmt.Appendf(nil,
		"[[pool]]\nname = %q\nhost = %q\nport = %d\nuser = %q\nidentity_file = %q\nbackends = [\"cpu\"]\n",
		name, pool.Host, pool.Port, pool.User, key.Path), 0o600))
	t.Setenv("HOME", operator)
	t.Setenv("RBEE_POOLS", poolsFile)
	t.Setenv("SSH_AUTH_SOCK", "")
}

// A pool with its own network (a namespace): its workers listen on ITS
// 127.0.0.1, which this machine cannot reach; the cell passes only because
// /health and /execute go through the pool's SSH connection.
func TestWorkersAreReachedThroughSSH(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, sshpool.NetnsAvailable(ctx), "needs root and iproute2 (network namespaces)")
	bins, err := harness.Build()
	require.NoError(t, err)
	key := sshpool.ClientKeyT(t)
	pool := sshpool.StartT(t, sshpool.Options{Name: "island", ClientKey: key, BinDir: bins.Dir, Netns: true,
		Env: map[string]string{"HOME": t.TempDir()}})
	// the hub must listen where the pool reaches it: this machine's end of its link
	hubDir := t.TempDir()
	require.NoError(t, tinymodel.GenerateAll(hubDir, tinymodel.DefaultSeed))
	hub, err := hubmirror.Listen(hubmirror.New(hubDir), net.JoinHostPort(pool.Gateway, "0"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = hub.Close() })
	operatorKnows(t, "island", pool, key)

	r, err := matrix.Setup(ctx, matrix.Config{Pools: []string{"island:cpu"}, Models: "tiny-llama",
		Hub: hub.URL, WorkDir: t.TempDir(), Bins: bins})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	c := r.Pools[0].RunCell(ctx, "cpu", r.Models[0], 2*time.Minute)
	require.Equal(t, matrix.Pass, c.Status, c.Reason)

	// the same worker directly: nothing there from this machine's side
	k, host := r.Pools[0].Keeper()
	var spawned workers.SpawnResult
	require.NoError(t, k.RunJSON(ctx, host, []string{"worker", "spawn", "cpu", "--model", "tiny-llama"}, &spawned))
	t.Cleanup(func() {
		var out map[string]any
		_ = k.RunJSON(context.Background(), host, []string{"worker", "stop", spawned.ID}, &out)
	})
	require.True(t, strings.HasPrefix(spawned.URI, "http://127.0.0.1:"), spawned.URI)
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if h, err := worker.NewClient(spawned.URI).Health(hctx); err == nil {
		t.Fatalf("%s answered from this machine (%+v): the pool's loopback is not private, the test proves nothing", spawned.URI, h)
	}
	dial, err := k.WorkerDial(ctx, host)
	require.NoError(t, err)
	h, err := worker.NewClient(spawned.URI, worker.WithDialer(dial)).Health(ctx)
	require.NoError(t, err)
	assert.Equal(t, worker.StatusHealthy, h.Status)
}
