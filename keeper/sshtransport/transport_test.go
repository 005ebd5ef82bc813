package sshtransport_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// fakeHive is a stand-in rbee-hive: prints its argv one per line, then
// behaves per its first argument.
const fakeHive = `#!/bin/sh
case "$1" in
  fail) echo "boom" >&2; exit 3 ;;
  sleep) trap 'echo got-int; exit 130' INT; echo $$ > "$RBEE_HOME/pid.$2"; echo sleeping; while :; do sleep 0.05; [ -n "$3" ] && echo tick; done ;;
  stream) echo one; sleep 0.5; echo two ;;
esac
for a in "$@"; do printf '[%s]\n' "$a"; done
`

type env struct {
	pool *sshpool.Pool
	key  *sshpool.Key
	opts sshtransport.Options
	dest sshtransport.Destination
}

func newEnv(t *testing.T) *env {
	t.Helper()
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "rbee-hive"), []byte(fakeHive), 0o755))
	key := sshpool.ClientKeyT(t)
	p := sshpool.StartT(t, sshpool.Options{Name: "p", ClientKey: key, BinDir: bin})
	return &env{pool: p, key: key,
		opts: sshtransport.Options{HomeDir: t.TempDir(), SSHConfigFile: "none", AgentSocket: "none",
			KnownHostsFile: p.KnownHosts, ConnectTimeout: 5 * time.Second},
		dest: sshtransport.Destination{Name: "p", Host: p.Host, Port: p.Port, User: p.User, IdentityFile: key.Path}}
}

func (e *env) dial(t *testing.T, o sshtransport.Options) (*sshtransport.Client, error) {
	t.Helper()
	tg, err := o.Resolve(e.dest)
	require.NoError(t, err)
	c, err := sshtransport.NewDialer(o).Dial(context.Background(), tg)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func TestRunQuotesStreamsAndReportsExit(t *testing.T) {
	e := newEnv(t)
	c, err := e.dial(t, e.opts)
	require.NoError(t, err)
	marker := filepath.Join(t.TempDir(), "pwned")
	evil := "x'; touch " + marker + "; echo '"
	tests := []struct {
		name        string
		argv        []string
		code        int
		out, errOut string
	}{
		{"literal args", []string{"rbee-hive", "register", evil, "$(id)", "a b", ""}, 0,
			"[register]\n[" + evil + "]\n[$(id)]\n[a b]\n[]\n", ""},
		{"exit status", []string{"rbee-hive", "fail"}, 3, "", "boom\n"},
		{"missing program", []string{"no-such-rbee-hive", "status"}, 127, "", "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, err := c.Run(context.Background(), sshtransport.Command{Argv: tt.argv, Stdout: &out, Stderr: &errOut})
			require.NoError(t, err)
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.out, out.String())
			assert.Contains(t, errOut.String(), tt.errOut)
		})
	}
	assert.NoFileExists(t, marker, "the quoted argument ran as a command")
}

// syncBuf records when each write arrived.
type syncBuf struct {
	ch chan string
}

func (s *syncBuf) Write(p []byte) (int, error) { s.ch <- string(p); return len(p), nil }

func TestRunStreamsLive(t *testing.T) {
	e := newEnv(t)
	c, err := e.dial(t, e.opts)
	require.NoError(t, err)
	w := &syncBuf{ch: make(chan string, 16)}
	done := make(chan int, 1)
	go func() {
		code, _ := c.Run(context.Background(), sshtransport.Command{Argv: []string{"rbee-hive", "stream"}, Stdout: w})
		done <- code
	}()
	select {
	case first := <-w.ch:
		assert.True(t, strings.HasPrefix(first, "one"), first)
	case <-done:
		t.Fatal("command finished before any output arrived")
	}
	select {
	case <-done:
		t.Fatal("first line arrived only at the end: output is not streamed")
	default:
	}
	assert.Equal(t, 0, <-done)
}

func TestConnectionIsReusedAcrossCommands(t *testing.T) {
	e := newEnv(t)
	c, err := e.dial(t, e.opts)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		var out bytes.Buffer
		code, err := c.Run(context.Background(), sshtransport.Command{Script: "echo $PPID", Stdout: &out})
		require.NoError(t, err)
		require.Equal(t, 0, code)
	}
	log, err := os.ReadFile(e.pool.Log)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(log), "Accepted publickey"), "one SSH login for three commands")
}

func TestCancelStopsRemoteCommand(t *testing.T) {
	e := newEnv(t)
	c, err := e.dial(t, e.opts)
	require.NoError(t, err)
	tests := []struct {
		name string
		pty  bool
		argv []string
		code int
	}{
		// on a terminal ^C reaches the command as SIGINT (it traps it)
		{"terminal", true, []string{"rbee-hive", "sleep", "pty"}, 130},
		// without one, root sessions ignore signal requests (no privilege
		// separation): the closed session stops the command at its next write
		{"pipes", false, []string{"rbee-hive", "sleep", "pipe", "tick"}, 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			w := &syncBuf{ch: make(chan string, 1024)}
			type res struct {
				code int
				err  error
			}
			done := make(chan res, 1)
			go func() {
				code, err := c.Run(ctx, sshtransport.Command{Argv: tt.argv, Stdout: w, PTY: tt.pty})
				done <- res{code, err}
			}()
			first := <-w.ch
			require.Contains(t, first, "sleeping")
			start := time.Now()
			cancel()
			r := <-done
			assert.ErrorIs(t, r.err, context.Canceled)
			assert.Equal(t, tt.code, r.code)
			assert.Less(t, time.Since(start), 6*time.Second)
			pidB, err := os.ReadFile(filepath.Join(e.pool.Home, "pid."+tt.argv[2]))
			require.NoError(t, err)
			pid, err := strconv.Atoi(strings.TrimSpace(string(pidB)))
			require.NoError(t, err)
			assert.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 5*time.Second, 50*time.Millisecond,
				"remote command %d still running after cancel", pid)
		})
	}
}

func TestHostKeyChecks(t *testing.T) {
	e := newEnv(t)
	other, err := sshpool.NewKey(filepath.Join(t.TempDir(), "k"), "")
	require.NoError(t, err)

	t.Run("unknown host refused with fingerprint and hint", func(t *testing.T) {
		o := e.opts
		o.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		_, err := e.dial(t, o)
		require.ErrorIs(t, err, sshtransport.ErrHostKeyUnknown)
		assert.Contains(t, err.Error(), "SHA256:")
		assert.Contains(t, sshtransport.Hint(err), "--accept-new-host-key")
		assert.NoFileExists(t, o.KnownHostsFile)
	})
	for _, hashed := range []bool{false, true} {
		name := "accept new records [host]:port plain"
		if hashed {
			name = "accept new records hashed"
		}
		t.Run(name, func(t *testing.T) {
			o := e.opts
			o.KnownHostsFile = filepath.Join(t.TempDir(), "sub", "known_hosts")
			o.AcceptNewHostKey = true
			if hashed {
				o.SSHConfigFile = writeFile(t, filepath.Join(t.TempDir(), "cfg"), "Host *\n  HashKnownHosts yes\n")
			}
			c, err := e.dial(t, o)
			require.NoError(t, err)
			c.Close()
			b, err := os.ReadFile(o.KnownHostsFile)
			require.NoError(t, err)
			if hashed {
				assert.True(t, strings.HasPrefix(string(b), "|1|"), string(b))
			} else {
				assert.Equal(t, e.pool.KnownHostsLine()+"\n", string(b))
			}
			// now known: a second connection without the flag succeeds
			o.AcceptNewHostKey = false
			_, err = e.dial(t, o)
			require.NoError(t, err)
		})
	}
	t.Run("changed key always refused, naming file and line", func(t *testing.T) {
		o := e.opts
		o.AcceptNewHostKey = true
		o.KnownHostsFile = writeFile(t, filepath.Join(t.TempDir(), "known_hosts"),
			"# comment\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvDSTzrl5ogq5jCQLiW0zwqsUgf10ZKTQK6rIakTpRs\n"+
				knownhosts.Line([]string{knownhosts.Normalize(e.pool.Addr())}, other.Public)+"\n")
		_, err := e.dial(t, o)
		require.ErrorIs(t, err, sshtransport.ErrHostKeyChanged)
		assert.Contains(t, err.Error(), o.KnownHostsFile+":3")
		assert.Contains(t, sshtransport.Hint(err), "ssh-keygen -R")
	})
}

func TestAuthAndTimeoutErrors(t *testing.T) {
	e := newEnv(t)
	t.Run("wrong key", func(t *testing.T) {
		wrong := sshpool.ClientKeyT(t)
		d := e.dest
		d.IdentityFile = wrong.Path
		tg, err := e.opts.Resolve(d)
		require.NoError(t, err)
		_, err = sshtransport.NewDialer(e.opts).Dial(context.Background(), tg)
		require.ErrorIs(t, err, sshtransport.ErrAuth)
		assert.Contains(t, err.Error(), e.pool.User+"@"+e.pool.Addr()+" (p)")
		assert.Contains(t, err.Error(), wrong.Path)
	})
	t.Run("blackhole times out naming host and seconds", func(t *testing.T) {
		b, err := sshpool.NewBlackhole()
		require.NoError(t, err)
		t.Cleanup(func() { b.Close() })
		d, err := sshtransport.ParseDestination("root@" + b.Addr())
		require.NoError(t, err)
		o := e.opts
		o.ConnectTimeout = 500 * time.Millisecond
		tg, err := o.Resolve(d)
		require.NoError(t, err)
		start := time.Now()
		_, err = sshtransport.NewDialer(o).Dial(context.Background(), tg)
		require.ErrorIs(t, err, sshtransport.ErrTimeout)
		assert.Less(t, time.Since(start), 2*time.Second)
		assert.Contains(t, err.Error(), b.Addr())
		assert.Contains(t, err.Error(), "0.5s")
	})
	t.Run("refused port", func(t *testing.T) {
		b, err := sshpool.NewBlackhole()
		require.NoError(t, err)
		addr := b.Addr()
		b.Close()
		d, _ := sshtransport.ParseDestination(addr)
		tg, err := e.opts.Resolve(d)
		require.NoError(t, err)
		_, err = sshtransport.NewDialer(e.opts).Dial(context.Background(), tg)
		require.ErrorIs(t, err, sshtransport.ErrConnect)
		var te *sshtransport.Error
		require.True(t, errors.As(err, &te))
		assert.Equal(t, addr, te.Host)
	})
}
