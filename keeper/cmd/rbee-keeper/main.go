// Command rbee-keeper runs on the operator's machine and drives rbee-hive on
// one or many pools (localhost directly, others over SSH). It only parses
// flags and prints; the behaviour lives in package keeper.
//
// Adding a command: write a handler `func (a *app) x(args []string) int` in
// its own file and add one line to the switch in dispatch.
package main

import (
	"fmt"
	"os"

	"github.com/rbee-go/rbee/internal/cli"
)

func main() {
	a := newApp(os.Stdout, os.Stderr, os.Getenv)
	os.Exit(a.run(os.Args[1:]))
}

func (a *app) dispatch(args []string) int {
	switch args[0] {
	case "pool":
		group, sub, rest := cli.Split(args[1:])
		switch group {
		case "status":
			return a.poolStatus(args[2:])
		case "preflight":
			return a.preflight(args[2:])
		case "models":
			switch sub {
			case "catalog":
				return a.poolModelsCatalog(rest)
			case "list":
				return a.poolModelsList(rest)
			case "register", "unregister", "download":
				return a.passthrough(modelsSpec(sub), []string{"models", sub}, rest)
			}
		case "worker":
			switch sub {
			case "spawn", "list", "stop", "logs":
				return a.passthrough(workerSpec(sub), []string{"worker", sub}, rest)
			}
		case "git":
			switch sub {
			case "pull", "status", "build":
				return a.git(sub, rest)
			}
		}
		return a.groupHelp(append([]string{"pool"}, args[1:]...))
	case "infer":
		return a.infer(args[1:])
	case "signoff":
		_, sub, rest := cli.Split(args)
		switch sub {
		case "plan":
			return a.signoffPlan(rest)
		case "report":
			return a.signoffReport(rest)
		}
		return a.groupHelp(args)
	case "help":
		if len(args) == 1 {
			a.topHelp(a.stdout)
			return 0
		}
		return a.dispatch(append(args[1:], "--help"))
	}
	return a.usageError(fmt.Sprintf("unknown command %q", args[0]), "run 'rbee-keeper --help' for the list of commands")
}
