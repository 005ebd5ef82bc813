package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// sshDialer adapts sshtransport to keeper.RemoteDialer for a matrix run. It
// differs from a one-shot keeper invocation in two ways, both local to the
// matrix: one SSH connection per pool is kept for the whole run (a cell runs
// about seven hive commands; a handshake each would be most of the cell's
// overhead), and Env is passed to every remote hive through env(1), so the
// pool's hive downloads from the run's hub (HF_ENDPOINT).
type sshDialer struct {
	d   *sshtransport.Dialer
	env []string // NAME=VALUE for the remote hive

	mu    sync.Mutex
	conns map[string]*sshtransport.Client // by target spec
}

func newSSHDialer(o sshtransport.Options, env []string) *sshDialer {
	return &sshDialer{d: sshtransport.NewDialer(o), env: env, conns: map[string]*sshtransport.Client{}}
}

// resolve turns a keeper target into an SSH target (ssh config applied).
func (s *sshDialer) resolve(t keeper.Target) (sshtransport.Target, error) {
	return s.d.Options().Resolve(sshtransport.Destination{Name: t.Spec, Host: t.Host, Port: t.Port,
		User: t.User, IdentityFile: t.IdentityFile})
}

// Dial returns a transport over the pool's shared connection, connecting
// on first use.
func (s *sshDialer) Dial(ctx context.Context, t keeper.Target) (keeper.Transport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.conns[t.Spec]; ok {
		return &sshHive{s: s, c: c, t: t}, nil
	}
	st, err := s.resolve(t)
	if err != nil {
		return nil, transportErr(t.Spec, err)
	}
	c, err := s.d.Dial(ctx, st)
	if err != nil {
		return nil, transportErr(t.Spec, err)
	}
	s.conns[t.Spec] = c
	return &sshHive{s: s, c: c, t: t}, nil
}

// drop forgets a broken connection so the next command redials.
func (s *sshDialer) drop(spec string, c *sshtransport.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[spec] == c {
		delete(s.conns, spec)
		_ = c.Close()
	}
}

// Close closes every connection.
func (s *sshDialer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.conns {
		_ = c.Close()
		delete(s.conns, k)
	}
	return nil
}

// sshHive runs the pool's rbee-hive over the shared connection.
type sshHive struct {
	s *sshDialer
	c *sshtransport.Client
	t keeper.Target
}

func (h *sshHive) Run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	bin := h.t.HiveBin
	if bin == "" {
		bin = "rbee-hive"
	}
	var argv []string
	if len(h.s.env) > 0 {
		argv = append([]string{"env"}, h.s.env...)
	}
	argv = append(append(argv, bin), h.t.HiveArgs(args)...)
	code, err := h.c.Run(ctx, sshtransport.Command{Argv: argv, Stdout: stdout, Stderr: stderr})
	if err != nil {
		if errors.Is(err, sshtransport.ErrLost) || errors.Is(err, sshtransport.ErrSession) {
			h.s.drop(h.t.Spec, h.c)
		}
		return keeper.ExitTransport, transportErr(h.t.Spec, err)
	}
	if code == keeper.ExitNotFound {
		return code, &keeper.Error{Code: keeper.CodeHiveNotFound, Host: h.t.Spec,
			Msg:  fmt.Sprintf("%s: %s not found on the pool (exit 127)", h.t.Spec, bin),
			Hint: "install it on the pool: rbee-keeper pool git build --host " + h.t.Spec + " (go install ./...), or set hive_bin in the pools file"}
	}
	return code, nil
}

// Close keeps the connection: the dialer owns it.
func (h *sshHive) Close() error { return nil }

func transportErr(host string, err error) error {
	var ke *keeper.Error
	if errors.As(err, &ke) {
		return err
	}
	return &keeper.Error{Code: keeper.CodeTransportFailure, Host: host, Msg: err.Error(), Err: err}
}
