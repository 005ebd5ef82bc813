package sshtransport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Dialer opens SSH connections for one keeper invocation. It is safe for
// concurrent use (fan-out): host key checks and known_hosts appends are
// serialised.
type Dialer struct {
	opts Options
	hk   *hostKeys
}

// NewDialer returns a Dialer for the invocation-wide options.
func NewDialer(o Options) *Dialer {
	hk := &hostKeys{file: o.knownHosts(), acceptNew: o.AcceptNewHostKey}
	if o.KnownHostsFile == "" {
		hk.global = []string{GlobalKnownHosts}
	}
	return &Dialer{opts: o, hk: hk}
}

// Options returns the options the Dialer was made with.
func (d *Dialer) Options() Options { return d.opts }

// Client is one authenticated connection to a pool; run any number of
// commands on it (each in its own session), then Close it.
type Client struct {
	t       Target
	c       *ssh.Client
	lost    chan struct{} // closed when keepalives go unanswered
	lostOne sync.Once
	gone    chan struct{} // closed when the connection ended, for any reason
	closed  chan struct{}
	once    sync.Once
	// Handshake is how long TCP connect + SSH handshake + auth took.
	Handshake time.Duration
}

// Target returns the resolved destination.
func (c *Client) Target() Target { return c.t }

// Dial connects and authenticates within the connect timeout. ctx
// cancellation aborts the attempt.
func (d *Dialer) Dial(ctx context.Context, t Target) (*Client, error) {
	timeout := d.opts.timeout()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var nd net.Dialer
	conn, err := nd.DialContext(dctx, "tcp", t.Addr())
	if err != nil {
		return nil, d.classify(ctx, dctx, t, "TCP connect", err, nil)
	}
	deadline, _ := dctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// cancellation (Ctrl-C) during the handshake unblocks it at once
	stop := context.AfterFunc(dctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	auth := d.opts.buildAuth(t)
	defer auth.close()
	cfg := &ssh.ClientConfig{
		User:              t.User,
		Auth:              []ssh.AuthMethod{auth.method},
		HostKeyCallback:   d.hk.callback(t),
		HostKeyAlgorithms: d.hk.hostKeyAlgorithms(t.Addr()),
		Timeout:           timeout,
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, t.Addr(), cfg)
	stopped := stop()
	if err != nil || !stopped {
		conn.Close()
		if err == nil {
			err = dctx.Err()
		}
		return nil, d.classify(ctx, dctx, t, "SSH handshake", err, auth)
	}
	_ = conn.SetDeadline(time.Time{})
	c := &Client{t: t, c: ssh.NewClient(sc, chans, ackRequests(conn, reqs)), lost: make(chan struct{}), closed: make(chan struct{}),
		Handshake: time.Since(start)}
	c.gone = make(chan struct{})
	go func() { _ = c.c.Wait(); close(c.gone) }()
	if t.KeepAlive > 0 {
		go c.keepAlive()
	}
	return c, nil
}

// Dead reports whether the connection is gone: keepalives unanswered, the
// server or the network reset it, or it was closed. A dead Client runs
// nothing more; dial again.
func (c *Client) Dead() bool {
	select {
	case <-c.lost:
		return true
	case <-c.gone:
		return true
	default:
		return false
	}
}

// ackRequests acknowledges each global request of the server at once at
// the TCP level (see quickAck), then hands it on to x/crypto, which refuses
// it. OpenSSH sends one (hostkeys-00@openssh.com) right after
// authentication.
func ackRequests(conn net.Conn, reqs <-chan *ssh.Request) <-chan *ssh.Request {
	out := make(chan *ssh.Request)
	go func() {
		defer close(out)
		for r := range reqs {
			quickAck(conn)
			out <- r
		}
	}()
	return out
}

// classify turns a dial/handshake failure into an *Error saying what and
// where.
func (d *Dialer) classify(ctx, dctx context.Context, t Target, stage string, err error, auth *authSet) error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if ctx.Err() != nil {
		return fmt.Errorf("connecting to %s: %w", t.Name, ctx.Err())
	}
	var ne net.Error
	if errors.Is(dctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		secs := d.opts.timeout().Seconds()
		return newError(CodeTimeout, t.Name,
			"check that the pool is up and reachable, or raise --connect-timeout", err,
			"connection to %s timed out after %gs during %s", t.where(), secs, stage)
	}
	if strings.Contains(err.Error(), "unable to authenticate") {
		desc := "publickey"
		if auth != nil {
			desc = auth.describe()
		}
		return newError(CodeAuth, t.Name,
			fmt.Sprintf("add your public key to %s@%s:~/.ssh/authorized_keys, load the key into ssh-agent, or set identity_file for the pool", t.User, t.HostName),
			err, "authentication failed for %s@%s%s; tried %s", t.User, t.Addr(), t.alias(), desc)
	}
	return newError(CodeConnect, t.Name, "check the host name and port (pools file or ~/.ssh/config)", err,
		"cannot connect to %s: %s failed: %v", t.where(), stage, err)
}

// alias names the pool in messages when the operator called it something
// other than its address (" (gpu)"), else "".
func (t Target) alias() string {
	if t.Name == "" || strings.Contains(t.Name, t.HostName) {
		return ""
	}
	return " (" + t.Name + ")"
}

// where names the pool for messages: its name, plus the address dialled
// when the name does not show it ("gpu (10.0.0.7:22)").
func (t Target) where() string {
	if t.Name == "" {
		return t.Addr()
	}
	if strings.Contains(t.Name, t.Addr()) || (t.Port == 22 && strings.Contains(t.Name, t.HostName)) {
		return t.Name
	}
	return t.Name + " (" + t.Addr() + ")"
}

// keepAlive probes the server like ServerAliveInterval: when KeepAliveMax
// probes in a row go unanswered the connection is declared lost and closed,
// so a command on a vanished pool fails instead of hanging.
func (c *Client) keepAlive() {
	tick := time.NewTicker(c.t.KeepAlive)
	defer tick.Stop()
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	for {
		select {
		case <-c.closed:
			return
		case <-tick.C:
		}
		if time.Since(time.Unix(0, last.Load())) > c.t.KeepAlive*time.Duration(c.t.KeepAliveMax) {
			c.lostOne.Do(func() { close(c.lost) })
			c.c.Close()
			return
		}
		go func() {
			if _, _, err := c.c.SendRequest("keepalive@openssh.com", true, nil); err == nil {
				last.Store(time.Now().UnixNano())
			}
		}()
	}
}

// Close closes the connection.
func (c *Client) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closed)
		err = c.c.Close()
	})
	return err
}

// Ping measures one round trip on the connection (an OpenSSH keepalive
// request, answered by sshd itself without starting a process).
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, _, err := c.c.SendRequest("keepalive@openssh.com", true, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return 0, c.sessionErr("measuring the round trip", err)
		}
		return time.Since(start), nil
	case <-c.lost:
		return 0, c.lostErr()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
