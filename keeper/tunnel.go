package keeper

import (
	"context"
	"fmt"
	"net"

	"github.com/rbee-go/rbee/keeper/sshtransport"
	"github.com/rbee-go/rbee/worker"
)

// tunneler is a RemoteDialer whose connections forward TCP (SSHDialer).
type tunneler interface {
	Client(ctx context.Context, t Target) (*sshtransport.Client, error)
}

// WorkerDial returns how to reach a worker of host: nil (dial directly) for
// a pool on this machine, otherwise a dialer through the pool's SSH
// connection that connects from the pool itself. Workers bind the pool's
// loopback, so the address a worker reports (http://127.0.0.1:PORT) is
// exactly what the tunnel dials; nothing listens on the network.
func (k *Keeper) WorkerDial(ctx context.Context, host string) (worker.DialFunc, error) {
	t, err := k.Pools.Resolve(host)
	if err != nil {
		return nil, err
	}
	if t.Local {
		return nil, nil
	}
	tn, ok := k.Remote.(tunneler)
	if !ok {
		return nil, &Error{Code: CodeSSHUnavailable, Host: host,
			Msg: fmt.Sprintf("%s: no SSH connection to reach its workers through", host)}
	}
	c, err := tn.Client(ctx, t)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return c.DialContext(ctx, network, poolView(addr))
	}, nil
}

// poolView turns a wildcard listen address (a worker bound to 0.0.0.0
// reporting it as its uri) into the pool's loopback, where it also listens.
func poolView(addr string) string {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch h {
	case "0.0.0.0", "":
		return net.JoinHostPort("127.0.0.1", p)
	case "::":
		return net.JoinHostPort("::1", p)
	}
	return addr
}
