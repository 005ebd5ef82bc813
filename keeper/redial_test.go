package keeper_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// A pool whose network goes away (namespace cut: packets silently dropped)
// is redialled once it is back; one that stays away past the limit fails
// with "pool unreachable since T", and fails at once from then on.
func TestRedialAfterCut(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, sshpool.NetnsAvailable(ctx), "needs root and iproute2 (network namespaces)")
	bins, err := harness.Build()
	require.NoError(t, err)
	key := sshpool.ClientKeyT(t)
	pool := sshpool.StartT(t, sshpool.Options{Name: "island", ClientKey: key, BinDir: bins.Dir, Netns: true})
	dialer := keeper.NewSSHDialer(sshtransport.Options{KnownHostsFile: pool.KnownHosts, SSHConfigFile: "none", AgentSocket: "none",
		ConnectTimeout: time.Second, KeepAlive: 500 * time.Millisecond, KeepAliveMax: 2})
	dialer.RedialLimit = 20 * time.Second
	k := &keeper.Keeper{Remote: dialer, Pools: &keeper.Pools{Pools: []keeper.Pool{{
		Name: "island", Host: pool.Host, Port: pool.Port, User: pool.User, IdentityFile: key.Path, HiveBin: bins.Path(harness.Hive),
	}}}}
	t.Cleanup(func() { _ = k.Close(); _ = pool.Restore(context.Background()) })

	_, err = k.Status(ctx, "island")
	require.NoError(t, err)
	assert.Zero(t, dialer.Outage("island").Redials)

	require.NoError(t, pool.Cut(ctx))
	require.Eventually(t, func() bool { return dialer.Outage("island").Down }, 10*time.Second, 50*time.Millisecond,
		"the keepalives notice the cut")
	restored := make(chan time.Time, 1)
	go func() {
		time.Sleep(2 * time.Second)
		_ = pool.Restore(context.Background())
		restored <- time.Now()
	}()
	_, err = k.Status(ctx, "island")
	require.NoError(t, err, "the command waits for the redial instead of failing")
	back := <-restored
	o := dialer.Outage("island")
	assert.Equal(t, 1, o.Redials)
	assert.False(t, o.Down)
	assert.Less(t, o.ReturnedAt.Sub(back), 6*time.Second, "redialled within the backoff cap of the pool's return")

	dialer.RedialLimit = 2 * time.Second
	require.NoError(t, pool.Cut(ctx))
	require.Eventually(t, func() bool { return dialer.Outage("island").Down }, 10*time.Second, 50*time.Millisecond)
	_, err = k.Status(ctx, "island")
	require.ErrorIs(t, err, keeper.ErrPoolUnreachable)
	assert.Contains(t, err.Error(), "pool unreachable since ")
	start := time.Now()
	_, err = k.Status(ctx, "island")
	require.ErrorIs(t, err, keeper.ErrPoolUnreachable)
	assert.Less(t, time.Since(start), time.Second, "a pool given up on fails at once")
}
