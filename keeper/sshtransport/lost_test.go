package sshtransport_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// A pool cut off mid-command (its own network namespace, link down): the
// keepalives go unanswered and Run fails with ErrLost instead of hanging.
func TestConnectionLostMidCommand(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, sshpool.NetnsAvailable(ctx), "needs root and iproute2 (network namespaces)")
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "rbee-hive"), []byte(fakeHive), 0o755))
	key := sshpool.ClientKeyT(t)
	p := sshpool.StartT(t, sshpool.Options{Name: "island", ClientKey: key, BinDir: bin, Netns: true})
	o := sshtransport.Options{HomeDir: t.TempDir(), AgentSocket: "none", KnownHostsFile: p.KnownHosts,
		SSHConfigFile: writeFile(t, filepath.Join(t.TempDir(), "cfg"), "Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n")}
	tg, err := o.Resolve(sshtransport.Destination{Name: "island", Host: p.Host, Port: p.Port, User: p.User, IdentityFile: key.Path})
	require.NoError(t, err)
	c, err := sshtransport.NewDialer(o).Dial(ctx, tg)
	require.NoError(t, err)
	defer c.Close()

	w := &syncBuf{ch: make(chan string, 1024)}
	type res struct {
		code int
		err  error
	}
	done := make(chan res, 1)
	go func() {
		code, err := c.Run(ctx, sshtransport.Command{Argv: []string{"rbee-hive", "sleep", "island"}, Stdout: w})
		done <- res{code, err}
	}()
	require.Contains(t, <-w.ch, "sleeping")
	require.NoError(t, p.Cut(ctx))
	start := time.Now()
	select {
	case r := <-done:
		require.ErrorIs(t, r.err, sshtransport.ErrLost)
		assert.Equal(t, sshtransport.ExitTransport, r.code)
		assert.Contains(t, r.err.Error(), "island ("+p.Addr()+")")
		assert.Less(t, time.Since(start), 5*time.Second)
	case <-time.After(15 * time.Second):
		t.Fatal("Run still waiting 15s after the pool was cut off")
	}
}
