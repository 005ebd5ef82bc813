package keeper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// Transport runs the pool's rbee-hive with args (hive arguments, without the
// binary name), streaming its output. exitCode is the hive's exit status;
// err is set only when the hive could not be run or the transport broke
// (then exitCode is ExitTransport, or ExitNotFound when rbee-hive is missing).
type Transport interface {
	Run(ctx context.Context, args []string, stdout, stderr io.Writer) (exitCode int, err error)
	Close() error
}

// RemoteDialer opens a Transport to a non-local target (the SSH transport).
type RemoteDialer interface {
	Dial(ctx context.Context, t Target) (Transport, error)
}

// Target is a resolved --host value.
type Target struct {
	Spec  string // as the operator typed it; used for [host] prefixes and JSON
	Pool  *Pool  // the pools file entry, when Spec names a pool
	Local bool   // run rbee-hive on this machine, no SSH

	// Where to connect (for remote targets), from the pool or from [user@]host[:port].
	User         string
	Host         string
	Port         int // 0 = transport default
	IdentityFile string
	HiveBin      string // rbee-hive on the pool; "" = "rbee-hive"
	Home         string // --home for the pool's hive; "" = the hive's default
}

// LocalHost is the --host value that runs rbee-hive on this machine.
const LocalHost = "localhost"

// Resolve turns a --host value into a Target: a pool name from the pools
// file, `localhost`, or [user@]host[:port].
func (p *Pools) Resolve(spec string) (Target, error) {
	spec = strings.TrimSpace(spec)
	if pool := p.Find(spec); pool != nil {
		t := Target{Spec: spec, Pool: pool, User: pool.User, Host: pool.Host, Port: pool.Port,
			IdentityFile: pool.IdentityFile, HiveBin: pool.HiveBin, Home: pool.Home}
		// A pool on this machine without SSH settings runs the hive directly.
		t.Local = pool.Host == LocalHost && pool.Port == 0 && pool.User == "" && pool.IdentityFile == ""
		return t, nil
	}
	if spec == LocalHost {
		return Target{Spec: spec, Local: true, Host: LocalHost}, nil
	}
	return ParseDestination(spec)
}

// ParseDestination parses [user@]host[:port] (IPv6 as [addr]:port) as the
// SSH transport does, and also refuses shell characters in the host and a
// space in the user: a --host value ends up in output prefixes and commands.
func ParseDestination(spec string) (Target, error) {
	d, err := sshtransport.ParseDestination(spec)
	t := Target{Spec: spec, User: d.User, Host: d.Host, Port: d.Port}
	var pe *sshtransport.PortError
	switch {
	case errors.As(err, &pe):
		return t, badHost(spec, pe.Error())
	case err != nil || strings.ContainsAny(t.Host, ";$`'\"") || strings.Contains(t.User, " "):
		return t, badHost(spec, "not a pool name or [user@]host[:port]")
	}
	return t, nil
}

func badHost(spec, why string) error {
	return &Error{Code: CodeBadHost, Host: spec, Msg: fmt.Sprintf("bad --host %q: %s", spec, why),
		Hint: "use localhost, a pool name from the pools file, or [user@]host[:port]"}
}

// HiveArgs prefixes args with --home when the target sets one.
func (t Target) HiveArgs(args []string) []string {
	if t.Home == "" {
		return args
	}
	return append([]string{"--home", t.Home}, args...)
}

// localCancelGrace is how long a cancelled local hive gets to exit after
// SIGINT before it is killed.
const localCancelGrace = 3 * time.Second

// LocalTransport runs rbee-hive on this machine.
type LocalTransport struct {
	Target Target
	Env    []string // environment of the hive; nil = the keeper's own
}

// Run runs the local hive and returns its exit status.
func (l LocalTransport) Run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	bin := l.Target.HiveBin
	if bin == "" {
		bin = "rbee-hive"
	}
	bin = expandTilde(bin)
	path, err := exec.LookPath(bin)
	if err != nil {
		return ExitNotFound, &Error{Code: CodeHiveNotFound, Host: l.Target.Spec, Err: err,
			Msg:  fmt.Sprintf("%s: rbee-hive not found (%s)", l.Target.Spec, bin),
			Hint: "install it with 'make install' (or go install ./hive/cmd/rbee-hive) or set hive_bin in the pools file"}
	}
	cmd := exec.CommandContext(ctx, path, l.Target.HiveArgs(args)...)
	cmd.Stdout, cmd.Stderr, cmd.Env = stdout, stderr, l.Env
	// Cancelling interrupts the hive as Ctrl-C would, so it cleans up (a
	// half-spawned worker), like the SSH transport; killed after a grace.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = localCancelGrace
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.ExitCode() >= 0 {
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return ExitTransport, &Error{Code: CodeTransportFailure, Host: l.Target.Spec, Err: err,
			Msg: fmt.Sprintf("%s: running %s: %v", l.Target.Spec, path, err)}
	}
	return 0, nil
}

// Close releases nothing: every Run is its own process.
func (LocalTransport) Close() error { return nil }

// expandTilde expands a leading "~/" to this user's home directory.
func expandTilde(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	return p
}
