package keeper_test

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/keeper/sshtransport"
	"github.com/rbee-go/rbee/worker"
)

// A worker of an SSH pool is reached through the pool's connection, at the
// address the worker reports (its own loopback, or 0.0.0.0 when it binds
// every interface); one of this machine is dialled directly.
func TestWorkerDial(t *testing.T) {
	key := sshpool.ClientKeyT(t)
	pool := sshpool.StartT(t, sshpool.Options{Name: "tunnel", ClientKey: key})
	dialer := keeper.NewSSHDialer(sshtransport.Options{KnownHostsFile: pool.KnownHosts, SSHConfigFile: "none", AgentSocket: "none"})
	k := &keeper.Keeper{Remote: dialer, Pools: &keeper.Pools{Pools: []keeper.Pool{{
		Name: "remote", Host: pool.Host, Port: pool.Port, User: pool.User, IdentityFile: key.Path}}}}
	t.Cleanup(func() { _ = k.Close() })
	ctx := context.Background()

	dial, err := k.WorkerDial(ctx, keeper.LocalHost)
	require.NoError(t, err)
	assert.Nil(t, dial, "localhost: direct")

	dial, err = k.WorkerDial(ctx, "remote")
	require.NoError(t, err)
	require.NotNil(t, dial)
	addr, _ := fakeWorker(t, 200, worker.Started("j", "m", "2026-01-01T00:00:00Z"), worker.Token("Hi", 0), worker.End(1, 1, worker.StopMaxTokens, ""))
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	for _, w := range []string{addr, "0.0.0.0:" + port} {
		res, err := keeper.Infer(ctx, keeper.InferRequest{Worker: w, Prompt: "x", MaxTokens: 1, Dial: dial}, nil)
		require.NoError(t, err, w)
		assert.Equal(t, "Hi", res.Text)
	}

	_, err = keeper.Infer(ctx, keeper.InferRequest{Worker: "127.0.0.1:1", Prompt: "x", MaxTokens: 1, Dial: dial}, nil)
	assert.Equal(t, keeper.CodeWorkerUnreachable, keeper.CodeOf(err), "%v", err)
	assert.ErrorIs(t, err, sshtransport.ErrTunnel)

	k.Remote = nil
	_, err = k.WorkerDial(ctx, "remote")
	assert.Equal(t, keeper.CodeSSHUnavailable, keeper.CodeOf(err), "%v", err)
}
