package keeper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// Executor is implemented by transports that can run any program in a
// directory of the pool (needed by `pool git`), not just rbee-hive.
type Executor interface {
	Exec(ctx context.Context, dir string, argv []string, stdout, stderr io.Writer) (exitCode int, err error)
}

// CodeNoRepo: the pool has no repo in the pools file.
const CodeNoRepo Code = "NO_REPO"

// GitCommand maps `pool git <sub>` to the program run in the pool's repo.
func GitCommand(sub string) ([]string, error) {
	switch sub {
	case "pull":
		return []string{"git", "pull"}, nil
	case "status":
		return []string{"git", "status"}, nil
	case "build":
		return []string{"go", "install", "./..."}, nil
	}
	return nil, fmt.Errorf("unknown git command %q (pull, status, build)", sub)
}

// Git runs `git pull`, `git status` or the build in the pool's repo.
func (k *Keeper) Git(ctx context.Context, host, sub string, s Streams) Result {
	res := Result{Host: host}
	argv, err := GitCommand(sub)
	if err != nil {
		res.ExitCode, res.Err = 2, err
		return res
	}
	tr, t, err := k.Connect(ctx, host)
	if err != nil {
		res.ExitCode, res.Err = exitFor(err), err
		return res
	}
	defer func() { _ = tr.Close() }()
	if t.Pool == nil || t.Pool.Repo == "" {
		res.ExitCode = 1
		res.Err = &Error{Code: CodeNoRepo, Host: host, Msg: fmt.Sprintf("%s: no repo for this pool in the pools file", host),
			Hint: "add repo = \"/path/to/rbee-go\" to the pool's [[pool]] entry"}
		return res
	}
	ex, ok := tr.(Executor)
	if !ok {
		res.ExitCode = ExitTransport
		res.Err = &Error{Code: CodeTransportFailure, Host: host, Msg: fmt.Sprintf("%s: this transport cannot run %s", host, argv[0])}
		return res
	}
	s = s.serialized()
	res.ExitCode, res.Err = ex.Exec(ctx, t.Pool.Repo, argv, s.Stdout, s.Stderr)
	return res
}

// Exec runs argv in dir ("~/" = the user's home) on this machine.
func (l LocalTransport) Exec(ctx context.Context, dir string, argv []string, stdout, stderr io.Writer) (int, error) {
	dir = expandTilde(dir)
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return ExitNotFound, &Error{Code: CodeTransportFailure, Host: l.Target.Spec, Err: err,
			Msg: fmt.Sprintf("%s: %s not found", l.Target.Spec, argv[0])}
	}
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr, cmd.Env = dir, stdout, stderr, l.Env
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.ExitCode() >= 0 {
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return ExitTransport, &Error{Code: CodeTransportFailure, Host: l.Target.Spec, Err: err,
			Msg: fmt.Sprintf("%s: running %s in %s: %v", l.Target.Spec, argv[0], dir, err)}
	}
	return 0, nil
}

// Exec runs argv in dir on the pool over the shared SSH connection ("~/" in
// dir is the remote home).
func (h *SSHHive) Exec(ctx context.Context, dir string, argv []string, stdout, stderr io.Writer) (int, error) {
	return h.RunCommand(ctx, sshtransport.Command{Argv: argv, Dir: dir, Stdout: stdout, Stderr: stderr})
}
