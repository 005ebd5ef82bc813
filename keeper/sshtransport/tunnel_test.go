package sshtransport_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// An HTTP server on the pool's loopback answers through the tunnel, also
// a streamed answer flushed piece by piece (how worker SSE arrives).
func TestDialContextReachesThePoolsLoopback(t *testing.T) {
	e := newEnv(t)
	c, err := e.dial(t, e.opts)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "part %d from %s\n", i, r.URL.Path)
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)

	hc := &http.Client{Transport: &http.Transport{DialContext: c.DialContext}}
	t.Cleanup(hc.CloseIdleConnections)
	for range 2 { // the second request reuses or reopens a channel
		resp, err := hc.Get(srv.URL + "/hello")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "part 0 from /hello\npart 1 from /hello\npart 2 from /hello\n", string(body))
	}
}

func TestDialContextRefused(t *testing.T) {
	e := newEnv(t)
	c, err := e.dial(t, e.opts)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now

	_, err = c.DialContext(context.Background(), "tcp", addr)
	require.ErrorIs(t, err, sshtransport.ErrTunnel)
	assert.Contains(t, err.Error(), "could not connect to "+addr)
	assert.Contains(t, sshtransport.Hint(err), "listening on "+addr)
}

// The tunnel dials from the pool, not from here: a pool in its own network
// namespace has its own 127.0.0.1, so this machine's loopback server is out
// of its reach, and its own loopback is reachable only through the tunnel.
func TestDialContextDialsFromThePool(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, sshpool.NetnsAvailable(ctx), "needs root and iproute2 (network namespaces)")
	key := sshpool.ClientKeyT(t)
	p := sshpool.StartT(t, sshpool.Options{Name: "island", ClientKey: key, Netns: true})
	o := sshtransport.Options{HomeDir: t.TempDir(), SSHConfigFile: "none", AgentSocket: "none",
		KnownHostsFile: p.KnownHosts, ConnectTimeout: 5 * time.Second}
	tg, err := o.Resolve(sshtransport.Destination{Name: "island", Host: p.Host, Port: p.Port, User: p.User, IdentityFile: key.Path})
	require.NoError(t, err)
	c, err := sshtransport.NewDialer(o).Dial(ctx, tg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })

	srv := httptest.NewServer(http.NotFoundHandler()) // this machine's 127.0.0.1
	t.Cleanup(srv.Close)
	_, err = c.DialContext(ctx, "tcp", srv.Listener.Addr().String())
	require.ErrorIs(t, err, sshtransport.ErrTunnel, "the pool's 127.0.0.1 is its own")

	// sshd itself listens inside the namespace: its port answers through
	// the tunnel at the pool's own address
	conn, err := c.DialContext(ctx, "tcp", p.Addr())
	require.NoError(t, err)
	defer conn.Close()
	stop := time.AfterFunc(5*time.Second, func() { conn.Close() }) // channels have no deadlines
	defer stop.Stop()
	banner := make([]byte, 8)
	_, err = io.ReadFull(conn, banner)
	require.NoError(t, err)
	assert.Equal(t, "SSH-2.0-", string(banner))
}
