// Command rbee-hive runs on a pool: model catalog, downloads, workers and
// status. It only parses flags and prints; the behaviour lives in package hive
// and its sub-packages.
//
// Adding a command: write <group>.go with a handler `func (a *app) x(args []string) int`
// and add one line to the switch in dispatch (plus its summary in groupCommands).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/rbee-go/rbee/internal/cli"
)

func main() {
	a := newApp(os.Stdout, os.Stderr, os.Getenv)
	os.Exit(a.run(os.Args[1:]))
}

// dispatch runs the command named by args (global flags already removed).
func (a *app) dispatch(args []string) int {
	group, sub, rest := cli.Split(args)
	switch group {
	case "status":
		return a.status(args[1:])
	case "models":
		switch sub {
		case "register":
			return a.modelsRegister(rest)
		case "unregister":
			return a.modelsUnregister(rest)
		case "catalog":
			return a.modelsCatalog(rest)
		case "list":
			return a.modelsList(rest)
		case "download":
			return a.modelsDownload(rest)
		}
	case "worker":
		switch sub {
		case "spawn":
			return a.workerSpawn(rest)
		case "list":
			return a.workerList(rest)
		case "stop":
			return a.workerStop(rest)
		case "logs":
			return a.workerLogs(rest)
		}
	case "hub":
		switch sub {
		case "serve":
			return a.hubServe(rest)
		}
	case "help":
		return a.help(args[1:])
	default:
		return a.usageError(fmt.Sprintf("unknown command %q", group), "run 'rbee-hive --help' for the list of commands")
	}
	return a.groupHelp(group, sub)
}

// groupCommands lists each group's sub-commands with a one-line summary.
func groupCommands() []groupInfo {
	return []groupInfo{
		{"status", "Pool status: host, CPUs, RAM, disk, backends, models, workers", nil},
		{"models", "The model catalog and model files", [][2]string{
			{"register", "add a model to the catalog"},
			{"unregister", "remove a model from the catalog (--delete-files removes its files)"},
			{"catalog", "show the catalog (--json prints the catalog document)"},
			{"list", "downloaded models, paths, sizes"},
			{"download", "download a model's files from the Hugging Face Hub"},
		}},
		{"worker", "LLM workers on this pool", [][2]string{
			{"spawn", "start a worker for a model on a backend"},
			{"list", "workers and their state"},
			{"stop", "stop a worker"},
			{"logs", "a worker's output"},
		}},
		{"hub", "Hugging Face Hub helpers", [][2]string{
			{"serve", "serve a folder as an HF-compatible mirror"},
		}},
	}
}

type groupInfo struct {
	name, summary string
	subs          [][2]string
}

func (a *app) help(args []string) int {
	if len(args) == 0 {
		a.topHelp(a.stdout)
		return 0
	}
	return a.dispatch(append(args, "--help"))
}

func (a *app) topHelp(w io.Writer) {
	fmt.Fprint(w, `rbee-hive runs on a pool: model catalog, model downloads, LLM workers, status.

Usage:
  rbee-hive [global flags] COMMAND [SUBCOMMAND] [flags] [args]

Commands:
`)
	for _, g := range groupCommands() {
		if g.subs == nil {
			fmt.Fprintf(w, "  %-28s %s\n", g.name, g.summary)
			continue
		}
		for _, s := range g.subs {
			fmt.Fprintf(w, "  %-28s %s\n", g.name+" "+s[0], s[1])
		}
	}
	fmt.Fprintf(w, `
Global flags:
%s
Example:
  rbee-hive --home ~/.rbee models catalog

Run 'rbee-hive COMMAND --help' for a command's flags and an example.
`, a.globalUsage())
}

// groupHelp answers `rbee-hive models`, `rbee-hive models --help` and
// unknown sub-commands.
func (a *app) groupHelp(group, sub string) int {
	for _, g := range groupCommands() {
		if g.name != group || g.subs == nil {
			continue
		}
		w, code := a.stdout, 0
		if sub != "-h" && sub != "--help" {
			w, code = a.stderr, 2
			if sub == "" {
				fmt.Fprintf(w, "error: %s needs a sub-command\n", group)
			} else {
				fmt.Fprintf(w, "error: unknown command %q\n", group+" "+sub)
			}
		}
		fmt.Fprintf(w, "Usage: rbee-hive %s <command> [flags]\n\n%s.\n\nCommands:\n", group, g.summary)
		for _, s := range g.subs {
			fmt.Fprintf(w, "  %-12s %s\n", s[0], s[1])
		}
		fmt.Fprintf(w, "\nRun 'rbee-hive %s <command> --help' for its flags and an example.\n", group)
		return code
	}
	return a.usageError(fmt.Sprintf("unknown command %q", group), "run 'rbee-hive --help' for the list of commands")
}
