package sshtransport

import (
	"context"
	"errors"
	"fmt"
	"net"

	"golang.org/x/crypto/ssh"
)

// DialContext connects to addr as seen FROM THE POOL (a direct-tcpip
// channel on the open connection, like ssh -L): a worker listening on the
// pool's 127.0.0.1 is reachable without ever listening on the network.
// network must be tcp, tcp4 or tcp6. Shaped like net.Dialer.DialContext so
// it plugs into http.Transport.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	select {
	case <-c.lost:
		return nil, c.lostErr()
	default:
	}
	conn, err := c.c.DialContext(ctx, network, addr)
	if err == nil {
		return conn, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) {
		return nil, newError(CodeTunnel, c.t.Name, fmt.Sprintf("is anything listening on %s on %s itself?", addr, c.t.Name), err,
			"%s could not connect to %s: %s", c.t.where(), addr, oce.Message)
	}
	return nil, c.sessionErr(fmt.Sprintf("forwarding to %s", addr), err)
}
