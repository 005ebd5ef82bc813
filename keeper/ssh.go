package keeper

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"

	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// SSHDialer is the keeper's RemoteDialer over SSH: one connection per host
// for its lifetime (one keeper invocation), shared by every command run on
// that host, closed by Close. Hosts are dialled concurrently.
type SSHDialer struct {
	d *sshtransport.Dialer
	// Env is NAME=VALUE set for every remote hive (through env(1)), e.g.
	// HF_ENDPOINT for a test hub.
	Env []string
	// PTY: give a remote command a terminal when the writer it streams to
	// is the keeper's own terminal (interactive colours, ^C).
	PTY bool
	// RedialLimit > 0: a connection found dead (keepalives unanswered,
	// reset, pool rebooted) is dialled again, with bounded backoff, until
	// the pool has been away this long; after that every command on it
	// fails at once with POOL_UNREACHABLE ("pool unreachable since T").
	// 0: a dead connection stays dead (one keeper invocation).
	RedialLimit time.Duration

	mu    sync.Mutex
	conns map[string]*sshConn
	hosts map[string]*hostState
}

type sshConn struct {
	ready chan struct{}
	c     *sshtransport.Client
	err   error
	final bool // err is the pool-unreachable verdict: do not dial again
}

// NewSSHDialer returns a dialer for the invocation's SSH options.
func NewSSHDialer(o sshtransport.Options) *SSHDialer {
	return &SSHDialer{d: sshtransport.NewDialer(o), conns: map[string]*sshConn{}, hosts: map[string]*hostState{}}
}

// Client returns the (shared) SSH connection to t, connecting on first use
// and, with RedialLimit, again when the connection died.
func (s *SSHDialer) Client(ctx context.Context, t Target) (*sshtransport.Client, error) {
	s.mu.Lock()
	sc, ok := s.conns[t.Spec]
	var down time.Time
	if s.RedialLimit > 0 {
		if ok && s.deadLocked(t.Spec, sc) {
			ok = false
		}
		if h := s.hosts[t.Spec]; h != nil {
			down = h.downSince
		}
	}
	if !ok {
		sc = &sshConn{ready: make(chan struct{})}
		s.conns[t.Spec] = sc
	}
	s.mu.Unlock()
	if ok {
		select {
		case <-sc.ready:
			return sc.c, sc.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	st, err := s.d.Options().Resolve(sshtransport.Destination{Name: t.Spec, Host: t.Host, Port: t.Port,
		User: t.User, IdentityFile: t.IdentityFile})
	if err == nil {
		if down.IsZero() {
			sc.c, err = s.d.Dial(ctx, st)
		} else {
			sc.c, sc.final, err = s.redial(ctx, st, t.Spec, down)
		}
	}
	sc.err = err
	close(sc.ready)
	return sc.c, err
}

// Dial returns a Transport running the pool's rbee-hive over the shared
// connection.
func (s *SSHDialer) Dial(ctx context.Context, t Target) (Transport, error) {
	c, err := s.Client(ctx, t)
	if err != nil {
		return nil, err
	}
	return &SSHHive{s: s, C: c, T: t}, nil
}

// Close closes every connection.
func (s *SSHDialer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sc := range s.conns {
		select {
		case <-sc.ready:
			if sc.c != nil {
				_ = sc.c.Close()
			}
		default:
		}
		delete(s.conns, k)
	}
	return nil
}

// Close releases the keeper's remote connections (one per host).
func (k *Keeper) Close() error {
	if c, ok := k.Remote.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// SSHHive runs commands on one pool over its shared connection.
type SSHHive struct {
	s *SSHDialer
	C *sshtransport.Client
	T Target
}

func (h *SSHHive) hiveBin() string {
	if h.T.HiveBin != "" {
		return h.T.HiveBin
	}
	return "rbee-hive"
}

// Run runs the pool's rbee-hive with args; exit 127 (rbee-hive missing)
// comes back as a HIVE_NOT_FOUND error with an install hint.
func (h *SSHHive) Run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	var argv []string
	if len(h.s.Env) > 0 {
		argv = append([]string{"env"}, h.s.Env...)
	}
	argv = append(append(argv, h.hiveBin()), h.T.HiveArgs(args)...)
	code, err := h.RunCommand(ctx, sshtransport.Command{Argv: argv, Stdout: stdout, Stderr: stderr})
	if err != nil {
		return code, err
	}
	if code == ExitNotFound {
		return code, &Error{Code: CodeHiveNotFound, Host: h.T.Spec, Err: sshtransport.ErrHiveNotFound,
			Msg: fmt.Sprintf("%s: %s not found on %s (exit 127)", h.T.Spec, h.hiveBin(), h.T.Spec),
			Hint: fmt.Sprintf("install it on the pool (go install ./hive/cmd/rbee-hive, or rbee-keeper pool git build --host %s), "+
				"make sure it is on the PATH of non-interactive SSH sessions, or set hive_bin in the pools file", h.T.Spec)}
	}
	return code, nil
}

// RunCommand runs any command on the pool (git, preflight probes). A
// terminal is requested when SSHDialer.PTY is set and stdout is a terminal.
func (h *SSHHive) RunCommand(ctx context.Context, cmd sshtransport.Command) (int, error) {
	if h.s.PTY {
		if f, ok := cmd.Stdout.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			cmd.PTY = true
			cmd.Width, cmd.Height, _ = term.GetSize(int(f.Fd()))
		}
	}
	return h.C.Run(ctx, cmd)
}

// Close keeps the connection: the dialer owns it.
func (h *SSHHive) Close() error { return nil }

// SSHCheck is the SSH part of a preflight: who logged in where, how long
// connecting took and one network round trip on the open connection.
type SSHCheck struct {
	User        string  `json:"user"`
	Addr        string  `json:"addr"`
	HandshakeMS float64 `json:"handshake_ms"`  // TCP connect + key exchange + authentication
	RoundTripMS float64 `json:"round_trip_ms"` // keepalive request answered by sshd
}

func checkSSH(ctx context.Context, h *SSHHive) *SSHCheck {
	t := h.C.Target()
	c := &SSHCheck{User: t.User, Addr: t.Addr(), HandshakeMS: ms(h.C.Handshake), RoundTripMS: -1}
	if rtt, err := h.C.Ping(ctx); err == nil {
		c.RoundTripMS = ms(rtt)
	}
	return c
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
