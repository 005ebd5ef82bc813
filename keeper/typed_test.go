package keeper_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// TestTypedCallsOverOneSSHConnection drives the typed API against a real
// OpenSSH pool: register → download (from a hub mirror) → workers → stop
// errors → unregister, all over the one connection the keeper keeps.
func TestTypedCallsOverOneSSHConnection(t *testing.T) {
	bins, err := harness.Build()
	require.NoError(t, err)
	hub := t.TempDir()
	repo := filepath.Join(hub, "rbee-testing", "typed")
	require.NoError(t, os.MkdirAll(repo, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "config.json"), []byte(`{"architectures": ["LlamaForCausalLM"]}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "model.safetensors"), []byte(strings.Repeat("w", 4096)), 0o644))
	mirror, err := hubmirror.Start(hub)
	require.NoError(t, err)
	t.Cleanup(func() { mirror.Close() })

	key := sshpool.ClientKeyT(t)
	pool := sshpool.StartT(t, sshpool.Options{Name: "typed", ClientKey: key, BinDir: bins.Dir,
		Env: map[string]string{"HF_ENDPOINT": mirror.URL}})
	k := &keeper.Keeper{
		Remote: keeper.NewSSHDialer(sshtransport.Options{KnownHostsFile: pool.KnownHosts, SSHConfigFile: "none", AgentSocket: "none"}),
		Pools: &keeper.Pools{Pools: []keeper.Pool{{Name: "typed", Host: pool.Host, Port: pool.Port, User: pool.User,
			IdentityFile: key.Path}}},
	}
	t.Cleanup(func() { _ = k.Close() })
	ctx := context.Background()

	m, err := k.Register(ctx, "typed", hive.RegisterRequest{ID: "typed", Name: "it's $(typed)", Repo: "rbee-testing/typed",
		Architecture: "llama", Backends: []catalog.Backend{"cpu"}})
	require.NoError(t, err)
	assert.Equal(t, "it's $(typed)", m.Name)
	assert.False(t, m.Downloaded)

	d, err := k.Download(ctx, "typed", "typed", "")
	require.NoError(t, err)
	assert.Equal(t, "typed", d.ID)
	assert.Equal(t, int64(4096+len(`{"architectures": ["LlamaForCausalLM"]}`)), d.SizeBytes)
	assert.Len(t, d.Files, 2)

	c, err := k.Catalog(ctx, "typed")
	require.NoError(t, err)
	require.Len(t, c.Models, 1)
	assert.True(t, c.Models[0].Downloaded)

	ws, err := k.Workers(ctx, "typed")
	require.NoError(t, err)
	assert.Empty(t, ws)

	_, err = k.StopWorker(ctx, "typed", "worker-cpu-9", 0)
	require.ErrorIs(t, err, keeper.ErrHiveFailed)
	assert.Contains(t, err.Error(), "typed: ")

	_, err = k.Unregister(ctx, "typed", "typed", true)
	require.NoError(t, err)
	st, err := k.Status(ctx, "typed")
	require.NoError(t, err)
	assert.Equal(t, 0, st.Models.Registered)

	// the same host three times at once still shares the one connection
	for _, r := range k.RunAll(ctx, []string{"typed", "typed", "typed"}, []string{"status", "--json"}, nil) {
		require.NoError(t, r.Err)
		assert.Equal(t, 0, r.ExitCode)
	}

	log, err := os.ReadFile(pool.Log)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(log), "Accepted publickey"), "one SSH connection for the whole keeper")
}
