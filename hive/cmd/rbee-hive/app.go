package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/internal/cli"
)

// app holds the global flags and the output streams of one invocation.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	home    string
	json    bool
	noColor bool
	version bool
}

func newApp(stdout, stderr io.Writer, getenv func(string) string) *app {
	return &app{stdout: stdout, stderr: stderr, getenv: getenv, home: hive.DefaultHome(getenv)}
}

// addGlobals registers the global flags on fs, bound to the app so they may
// appear before or after the command.
func (a *app) addGlobals(fs *pflag.FlagSet) {
	fs.StringVar(&a.home, "home", a.home, "rbee home directory (env RBEE_HOME)")
	fs.BoolVar(&a.json, "json", a.json, "machine output on stdout (JSON only)")
	fs.BoolVar(&a.noColor, "no-color", a.noColor, "no colors (also NO_COLOR)")
	fs.BoolVar(&a.version, "version", a.version, "print the version and exit")
}

func (a *app) globalUsage() string {
	fs := pflag.NewFlagSet("global", pflag.ContinueOnError)
	a.addGlobals(fs)
	fs.BoolP("help", "h", false, "help for rbee-hive or a command")
	return fs.FlagUsages()
}

// run parses the global flags in front of the command and dispatches.
func (a *app) run(args []string) int {
	fs := pflag.NewFlagSet("rbee-hive", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(false)
	a.addGlobals(fs)
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil && !*help {
		return a.usageError(err.Error(), "run 'rbee-hive --help'")
	}
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

func (a *app) printVersion() int { return cli.PrintVersion(a.stdout, "rbee-hive", hive.Version) }

// command describes one command for its --help.
type command struct {
	name    string // "models register"
	args    string // "ID --name NAME ..."
	summary string
	example string
}

// flags returns a flag set for the command with the global flags on it.
func (a *app) flags(c command) *pflag.FlagSet {
	fs := pflag.NewFlagSet("rbee-hive "+c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	a.addGlobals(fs)
	fs.BoolP("help", "h", false, "help for "+c.name)
	return fs
}

// parse parses args; when it returns false the command is over with code.
func (a *app) parse(fs *pflag.FlagSet, c command, args []string, nargs int) (bool, int) {
	err := fs.Parse(args)
	if h, _ := fs.GetBool("help"); h || errors.Is(err, pflag.ErrHelp) {
		a.commandHelp(fs, c)
		return false, 0
	}
	if err != nil {
		return false, a.usageError(err.Error(), fmt.Sprintf("run 'rbee-hive %s --help'", c.name))
	}
	if a.version {
		return false, a.printVersion()
	}
	if nargs >= 0 && fs.NArg() != nargs {
		msg := fmt.Sprintf("%s takes %d argument(s), got %d", c.name, nargs, fs.NArg())
		if fs.NArg() < nargs {
			msg = fmt.Sprintf("%s: missing argument (usage: rbee-hive %s %s)", c.name, c.name, c.args)
		}
		return false, a.usageError(msg, fmt.Sprintf("run 'rbee-hive %s --help'", c.name))
	}
	a.home = hive.ExpandHome(a.home)
	return true, 0
}

func (a *app) commandHelp(fs *pflag.FlagSet, c command) {
	fmt.Fprintf(a.stdout, "%s\n\nUsage:\n  rbee-hive %s %s\n\nFlags:\n%s\nExample:\n%s\n",
		c.summary, c.name, c.args, fs.FlagUsages(), cli.Indent(c.example))
}

func (a *app) hive() hive.Hive { return hive.Hive{Home: a.home} }

func (a *app) style() hive.Style {
	return hive.Style{Color: cli.Color(a.stdout, a.noColor, a.getenv)}
}

func (a *app) printJSON(v any) int {
	if err := cli.WriteJSON(a.stdout, v); err != nil {
		return a.fail(fmt.Errorf("encode JSON: %w", err))
	}
	return 0
}

// fail prints `error: …` and the hint of the error, if it has one; exit 1.
func (a *app) fail(err error) int { return cli.Fail(a.stderr, err) }

// usageError is a command line mistake; exit 2.
func (a *app) usageError(msg, hint string) int { return cli.UsageError(a.stderr, msg, hint) }
