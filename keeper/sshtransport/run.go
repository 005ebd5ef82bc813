package sshtransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rbee-go/rbee/internal/syncio"
)

// ExitTransport is the exit code for a failure of SSH itself (as ssh(1)).
const ExitTransport = 255

// ExitInterrupted is the exit code after cancellation (128 + SIGINT, as a
// shell reports Ctrl-C).
const ExitInterrupted = 130

// Command is one remote command. Set Argv (run with exec, every argument
// quoted, optionally in Dir) or Script (a shell snippet sent as is).
type Command struct {
	Argv   []string
	Dir    string // remote working directory for Argv; "~/" means the remote home
	Script string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// PTY asks for a terminal (set it only when the keeper's own stdout is
	// one); Width/Height default to 80x24.
	PTY           bool
	Width, Height int
}

// Line is the remote command line sent to the server's shell.
func (c Command) Line() string {
	if c.Script != "" {
		return c.Script
	}
	// exec: the signal sshd delivers on Ctrl-C reaches the program itself,
	// not an intermediate shell.
	line := "exec " + Join(c.Argv)
	if c.Dir != "" {
		line = "cd " + QuotePath(c.Dir) + " && " + line
	}
	return line
}

// cancelGrace is how long a cancelled command gets to exit after SIGINT
// before its session is closed.
const cancelGrace = 3 * time.Second

// Run runs cmd in a new session on the connection, streaming its output,
// and returns the remote exit status. Transport failures return
// ExitTransport and an *Error; cancelling ctx sends SIGINT to the remote
// command, then closes the session, and returns ctx's error.
func (c *Client) Run(ctx context.Context, cmd Command) (int, error) {
	if len(cmd.Argv) == 0 && cmd.Script == "" {
		return ExitTransport, errors.New("sshtransport: empty command")
	}
	s, err := c.c.NewSession()
	if err != nil {
		return ExitTransport, c.sessionErr("opening a session", err)
	}
	defer s.Close()
	// A lost connection returns before the session's copy goroutines end:
	// detached, they can no longer write to the caller's buffers.
	stdout, stderr := &detachable{w: orDiscard(cmd.Stdout)}, &detachable{w: orDiscard(cmd.Stderr)}
	defer stdout.detach()
	defer stderr.detach()
	s.Stdout, s.Stderr = stdout, stderr
	var ptyIn *syncio.Writer // keeps a way to type ^C into the remote terminal; serialises it with the stdin copy
	if cmd.PTY {
		w, err := s.StdinPipe()
		if err != nil {
			return ExitTransport, c.sessionErr("opening stdin", err)
		}
		ptyIn = syncio.NewWriter(w)
		if cmd.Stdin != nil {
			go func() { _, _ = io.Copy(ptyIn, cmd.Stdin); _ = w.Close() }()
		}
	} else {
		s.Stdin = cmd.Stdin
	}
	if cmd.PTY {
		w, h := cmd.Width, cmd.Height
		if w <= 0 || h <= 0 {
			w, h = 80, 24
		}
		term := os.Getenv("TERM")
		if term == "" {
			term = "xterm"
		}
		modes := ssh.TerminalModes{ssh.ECHO: 0, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
		if err := s.RequestPty(term, h, w, modes); err != nil {
			return ExitTransport, c.sessionErr("requesting a terminal", err)
		}
	}
	if err := s.Start(cmd.Line()); err != nil {
		return ExitTransport, c.sessionErr("starting the command", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err = <-done:
	case <-c.lost:
		return ExitTransport, c.lostErr()
	case <-ctx.Done():
		// sshd honours "signal" requests only for privilege-separated
		// (non-root) sessions; on a terminal ^C works for every user.
		_ = s.Signal(ssh.SIGINT)
		if ptyIn != nil {
			_, _ = ptyIn.Write([]byte{0x03})
		}
		select {
		case err = <-done:
		case <-time.After(cancelGrace):
			// closing the session hangs up a terminal, and closes the
			// pipes of a command without one (it stops at its next
			// write, as with ssh(1)); don't wait for it forever
			_ = s.Signal(ssh.SIGKILL)
			_ = s.Close()
			select {
			case err = <-done:
			case <-time.After(time.Second):
			}
		case <-c.lost:
		}
		_ = err // whatever the remote reported, the operator interrupted it
		return ExitInterrupted, fmt.Errorf("command on %s interrupted: %w", c.t.Name, ctx.Err())
	}
	select {
	case <-c.lost:
		return ExitTransport, c.lostErr()
	default:
	}
	code, err := exitCode(err)
	if err != nil {
		return code, c.sessionErr("waiting for the command", err)
	}
	return code, nil
}

// exitCode maps Session.Wait's result to an exit status; the error is
// non-nil only for a transport problem.
func exitCode(err error) (int, error) {
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitStatus(), nil
	}
	return ExitTransport, err
}

func (c *Client) lostErr() error {
	d := c.t.KeepAlive * time.Duration(c.t.KeepAliveMax)
	return newError(CodeLost, c.t.Name, "check the pool's network; the remote command may still be running", nil,
		"connection to %s lost: no answer to keepalives for %s", c.t.where(), d)
}

func (c *Client) sessionErr(what string, err error) error {
	select {
	case <-c.lost:
		return c.lostErr()
	default:
	}
	var me *ssh.ExitMissingError
	if errors.As(err, &me) {
		return newError(CodeSession, c.t.Name, "", err, "command on %s ended without an exit status", c.t.Name)
	}
	msg := err.Error()
	if strings.Contains(msg, "EOF") || strings.Contains(msg, "closed") {
		return newError(CodeLost, c.t.Name, "", err, "connection to %s closed while %s: %v", c.t.Name, what, err)
	}
	return newError(CodeSession, c.t.Name, "", err, "%s on %s: %v", what, c.t.Name, err)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// detachable forwards writes until detach; after that it drops them.
type detachable struct {
	mu  sync.Mutex
	w   io.Writer
	off bool
}

func (d *detachable) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.off {
		return len(p), nil
	}
	return d.w.Write(p)
}

func (d *detachable) detach() {
	d.mu.Lock()
	d.off = true
	d.mu.Unlock()
}
