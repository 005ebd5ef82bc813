// Package steps holds the godog step definitions of the acceptance features
// and the per-scenario World they share. Steps run the built binaries
// (internal/testbed/harness) as an operator would: real processes, a temporary
// RBEE_HOME and HOME per scenario, output and exit codes captured.
package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/google/shlex"

	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// InitializeScenario is godog's ScenarioInitializer: godog calls it once per
// scenario, so each scenario gets a fresh World. Each step file registers
// its own steps; add one line per file here.
func InitializeScenario(sc *godog.ScenarioContext) {
	w := &World{}
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		return ctx, w.setUp()
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		w.tearDown()
		return ctx, nil
	})
	registerCLISteps(sc, w)
	registerCatalogSteps(sc, w)
	registerDownloadSteps(sc, w)
	registerWorkerSteps(sc, w)
	registerMatrixSteps(sc, w)
	registerRemoteSteps(sc, w)
	registerSignoffSteps(sc, w)
	registerRustWorkerSteps(sc, w)
}

// CommandTimeout bounds one command run by a step.
const CommandTimeout = 2 * time.Minute

// World is the state of one scenario.
type World struct {
	Bins     *harness.Bins
	Dir      string            // the scenario's temporary directory, removed afterwards
	Home     string            // RBEE_HOME of the processes (not created in advance)
	UserHome string            // HOME of the processes (pools file under .config/rbee)
	Env      map[string]string // extra environment of the processes
	Cred     *syscall.Credential

	// The last command run by a step.
	Cmdline  string
	Stdout   string
	Stderr   string
	ExitCode int

	Saved    map[string][]byte // snapshots steps compare against later
	cleanups []func()
}

func (w *World) setUp() error {
	bins, err := harness.Build()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "rbee-scenario-")
	if err != nil {
		return err
	}
	// 0755 so a scenario may run the hive as another user (read-only home).
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	w.Bins, w.Dir = bins, dir
	w.Home = filepath.Join(dir, "home")
	w.UserHome = filepath.Join(dir, "user")
	w.Env = map[string]string{}
	w.Saved = map[string][]byte{}
	return os.MkdirAll(w.UserHome, 0o755)
}

func (w *World) tearDown() {
	for i := len(w.cleanups) - 1; i >= 0; i-- {
		w.cleanups[i]()
	}
	w.cleanups = nil
	if w.Dir != "" {
		_ = os.RemoveAll(w.Dir)
	}
}

// Cleanup registers fn to run after the scenario (last registered, first run).
func (w *World) Cleanup(fn func()) { w.cleanups = append(w.cleanups, fn) }

// Expand replaces ${RBEE_HOME}, ${SCENARIO_DIR}, ${HOME}, ${BIN_DIR} and the
// World's Env variables in s.
func (w *World) Expand(s string) string {
	return os.Expand(s, func(k string) string {
		switch k {
		case "RBEE_HOME":
			return w.Home
		case "SCENARIO_DIR":
			return w.Dir
		case "HOME":
			return w.UserHome
		case "BIN_DIR":
			return w.Bins.Dir
		case "RUST_SEED": // the Rust worker stand-in's three binaries
			return w.Bins.RustSeedDir()
		}
		if v, ok := w.Env[k]; ok {
			return v
		}
		return "${" + k + "}"
	})
}

// Environ is the environment of processes the steps start: the test's own,
// minus settings that would leak the machine's configuration, plus the
// scenario's PATH, HOME, RBEE_HOME and Env.
func (w *World) Environ() []string {
	drop := map[string]bool{"RBEE_HOME": true, "RBEE_POOLS": true, "HOME": true, "PATH": true, "NO_COLOR": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] && !strings.HasPrefix(k, "RBEE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+w.Bins.PathEnv(), "HOME="+w.UserHome, "RBEE_HOME="+w.Home)
	for k, v := range w.Env {
		env = append(env, k+"="+v)
	}
	return env
}

// Command prepares a process the way an operator's shell would start it.
func (w *World) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if w.Bins.Has(name) {
		name = w.Bins.Path(name)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = w.Environ(), w.Dir
	if w.Cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: w.Cred}
	}
	return cmd
}

// Split expands variables and splits a command line like a POSIX shell.
func (w *World) Split(cmdline string) ([]string, error) {
	argv, err := shlex.Split(w.Expand(cmdline))
	if err != nil {
		return nil, fmt.Errorf("command line %q: %w", cmdline, err)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("empty command line")
	}
	return argv, nil
}

// Run runs a command line and records its output and exit code. A non-zero
// exit is not an error here; steps assert on ExitCode.
func (w *World) Run(ctx context.Context, cmdline string) error {
	argv, err := w.Split(cmdline)
	if err != nil {
		return err
	}
	return w.run(ctx, cmdline, argv)
}

// RunOnTerminal runs a command line under a pseudo-terminal (util-linux
// script), as an operator typing it sees it: colors, tables.
func (w *World) RunOnTerminal(ctx context.Context, cmdline string) error {
	argv, err := w.Split(cmdline)
	if err != nil {
		return err
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = sshtransport.Quote(a)
	}
	return w.run(ctx, cmdline, []string{"script", "-qefc", strings.Join(quoted, " "), "/dev/null"})
}

func (w *World) run(ctx context.Context, cmdline string, argv []string) error {
	var err error
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	var stdout, stderr strings.Builder
	cmd := w.Command(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	w.Cmdline, w.Stdout, w.Stderr, w.ExitCode = cmdline, stdout.String(), stderr.String(), 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		w.ExitCode = exitErr.ExitCode()
	case err != nil:
		return fmt.Errorf("run %q: %w", cmdline, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("run %q: timed out after %s", cmdline, CommandTimeout)
	}
	return nil
}

// Last describes the last command for failure messages.
func (w *World) Last() string {
	return fmt.Sprintf("command: %s\nexit code: %d\nstdout:\n%s\nstderr:\n%s", w.Cmdline, w.ExitCode, w.Stdout, w.Stderr)
}
