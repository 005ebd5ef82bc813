package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/internal/cli"
	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// app holds the global flags and output streams of one invocation.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	pools            string
	poolsSet         bool
	json             bool
	noColor          bool
	version          bool
	knownHosts       string
	acceptNewHostKey bool
	connectTimeout   time.Duration
	sshConfig        string
}

func newApp(stdout, stderr io.Writer, getenv func(string) string) *app {
	return &app{stdout: stdout, stderr: stderr, getenv: getenv,
		pools: keeper.DefaultPoolsPath(getenv), connectTimeout: 10 * time.Second}
}

func (a *app) addGlobals(fs *pflag.FlagSet) {
	fs.StringVar(&a.pools, "pools", a.pools, "pools file (env RBEE_POOLS)")
	fs.BoolVar(&a.json, "json", a.json, "machine output on stdout (JSON only)")
	fs.BoolVar(&a.noColor, "no-color", a.noColor, "no colors (also NO_COLOR)")
	fs.BoolVar(&a.version, "version", a.version, "print the version and exit")
	fs.StringVar(&a.knownHosts, "known-hosts", a.knownHosts, "known_hosts file for SSH host keys (default ~/.ssh/known_hosts)")
	fs.BoolVar(&a.acceptNewHostKey, "accept-new-host-key", a.acceptNewHostKey, "accept and record the key of a host not yet known")
	fs.DurationVar(&a.connectTimeout, "connect-timeout", a.connectTimeout, "SSH connect + handshake timeout")
	fs.StringVar(&a.sshConfig, "ssh-config", a.sshConfig, "OpenSSH client config file (default ~/.ssh/config; none = no file)")
}

func (a *app) globalUsage() string {
	fs := pflag.NewFlagSet("global", pflag.ContinueOnError)
	a.addGlobals(fs)
	fs.BoolP("help", "h", false, "help for rbee-keeper or a command")
	return fs.FlagUsages()
}

func (a *app) run(args []string) int {
	fs := pflag.NewFlagSet("rbee-keeper", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(false)
	a.addGlobals(fs)
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil && !*help {
		return a.usageError(err.Error(), "run 'rbee-keeper --help'")
	}
	a.poolsSet = fs.Changed("pools") || a.getenv(keeper.EnvPools) != ""
	if a.version {
		return a.printVersion()
	}
	if *help {
		a.topHelp(a.stdout)
		return 0
	}
	if fs.NArg() == 0 {
		a.topHelp(a.stderr)
		return 2
	}
	return a.dispatch(fs.Args())
}

func (a *app) printVersion() int { return cli.PrintVersion(a.stdout, "rbee-keeper", hive.Version) }

// flags returns the flag set of a command: globals plus --host.
func (a *app) flags(c command, hosts *[]string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("rbee-keeper "+c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if hosts != nil {
		fs.StringSliceVar(hosts, "host", nil, "localhost, a pool name or [user@]host[:port]; comma separated for several")
	}
	a.addGlobals(fs)
	fs.BoolP("help", "h", false, "help for "+c.name)
	return fs
}

// parse parses a command's flags; false means the command is over with code.
func (a *app) parse(fs *pflag.FlagSet, c command, args []string, nargs int) (bool, int) {
	err := fs.Parse(args)
	if h, _ := fs.GetBool("help"); h || errors.Is(err, pflag.ErrHelp) {
		a.commandHelp(fs, c)
		return false, 0
	}
	if err != nil {
		return false, a.usageError(err.Error(), fmt.Sprintf("run 'rbee-keeper %s --help'", c.name))
	}
	if fs.Changed("pools") {
		a.poolsSet = true
	}
	if a.version {
		return false, a.printVersion()
	}
	if nargs >= 0 && fs.NArg() != nargs {
		return false, a.usageError(fmt.Sprintf("%s takes %d argument(s), got %d", c.name, nargs, fs.NArg()),
			fmt.Sprintf("run 'rbee-keeper %s --help'", c.name))
	}
	if f := fs.Lookup("host"); f != nil && !f.Changed && !c.optionalHost {
		return false, a.usageError(c.name+": --host is required", "e.g. --host localhost, or a pool name from "+a.pools)
	}
	return true, 0
}

func (a *app) commandHelp(fs *pflag.FlagSet, c command) {
	fmt.Fprintf(a.stdout, "%s\n\nUsage:\n  rbee-keeper %s %s\n\nFlags:\n%s", c.summary, c.name, c.args, fs.FlagUsages())
	if c.hive {
		fmt.Fprintf(a.stdout, "\nOther flags and arguments go to the pool's 'rbee-hive %s' unchanged\n(see 'rbee-hive %s --help').\n",
			strings.TrimPrefix(c.name, "pool "), strings.TrimPrefix(c.name, "pool "))
	}
	fmt.Fprintf(a.stdout, "\nExample:\n%s\n", cli.Indent(c.example))
}

// keeper loads the pools file and builds the keeper.
func (a *app) keeper() (*keeper.Keeper, error) {
	pools, err := keeper.LoadPools(a.pools, a.poolsSet)
	if err != nil {
		return nil, err
	}
	ssh := keeper.NewSSHDialer(sshtransport.Options{KnownHostsFile: a.knownHosts, AcceptNewHostKey: a.acceptNewHostKey,
		ConnectTimeout: a.connectTimeout, SSHConfigFile: a.sshConfig})
	ssh.PTY = !a.json // only where a command streams text to the keeper's own terminal
	return &keeper.Keeper{Pools: pools, Remote: ssh}, nil
}

func (a *app) style() hive.Style {
	return hive.Style{Color: cli.Color(a.stdout, a.noColor, a.getenv)}
}

// fail prints `error: …` plus the error's hint; exit 1.
func (a *app) fail(err error) int { return cli.Fail(a.stderr, err) }

// usageError is a command line mistake; exit 2.
func (a *app) usageError(msg, hint string) int { return cli.UsageError(a.stderr, msg, hint) }
