package main

import (
	"fmt"
	"io"
	"strings"
)

// command describes one command for its --help.
type command struct {
	name    string // "pool models register"
	args    string
	summary string
	example string
	hive    bool // flags other than the keeper's go to the pool's rbee-hive
	// optionalHost: the command defines its own single --host, not required
	optionalHost bool
}

func specStatus() command {
	return command{name: "pool status", args: "--host H[,H...] [--json]",
		summary: "Show each pool's status (host, CPUs, RAM, disk, backends, models, workers).",
		example: "rbee-keeper pool status --host localhost\nrbee-keeper pool status --host mac,workstation --json"}
}

func specCatalog() command {
	return command{name: "pool models catalog", args: "--host H[,H...] [--json]",
		summary: "Show each pool's model catalog; --json prints the catalog document.",
		example: "rbee-keeper pool models catalog --host localhost --json"}
}

func specList() command {
	return command{name: "pool models list", args: "--host H[,H...] [--json]",
		summary: "List each pool's downloaded models with paths and sizes.",
		example: "rbee-keeper pool models list --host workstation"}
}

func modelsSpec(sub string) command {
	c := command{name: "pool models " + sub, hive: true}
	switch sub {
	case "register":
		c.args = "ID --name NAME --repo ORG/NAME --architecture ARCH [--backends LIST] [--revision REV] [--include GLOB]... --host H[,H...]"
		c.summary = "Register a model in each pool's catalog (runs 'rbee-hive models register')."
		c.example = "rbee-keeper pool models register qwen-0.5b --name 'Qwen2.5 0.5B' \\\n    --repo Qwen/Qwen2.5-0.5B-Instruct --architecture qwen --host localhost"
	case "unregister":
		c.args = "ID [--delete-files] --host H[,H...]"
		c.summary = "Remove a model from each pool's catalog (runs 'rbee-hive models unregister')."
		c.example = "rbee-keeper pool models unregister phi3 --delete-files --host mac"
	case "download":
		c.args = "ID [--revision REV] --host H[,H...]"
		c.summary = "Download a model's files on each pool (runs 'rbee-hive models download')."
		c.example = "rbee-keeper pool models download tinyllama --host mac,workstation"
	}
	return c
}

func workerSpec(sub string) command {
	c := command{name: "pool worker " + sub, hive: true}
	switch sub {
	case "spawn":
		c.args = "BACKEND --model ID [--gpu N] [--port P] [--wait DUR] [--json] --host H[,H...]"
		c.summary = "Start a worker on each pool (runs 'rbee-hive worker spawn')."
		c.example = "rbee-keeper pool worker spawn cuda --model qwen-0.5b --gpu 0 --host workstation"
	case "list":
		c.args = "[--json] --host H[,H...]"
		c.summary = "List each pool's workers (runs 'rbee-hive worker list')."
		c.example = "rbee-keeper pool worker list --host mac,workstation"
	case "stop":
		c.args = "WORKER_ID [--timeout DUR] --host H"
		c.summary = "Stop a worker (runs 'rbee-hive worker stop')."
		c.example = "rbee-keeper pool worker stop worker-cuda-0 --host workstation"
	case "logs":
		c.args = "WORKER_ID [--follow] [--tail N] --host H"
		c.summary = "Show a worker's output (runs 'rbee-hive worker logs')."
		c.example = "rbee-keeper pool worker logs worker-cpu-0 --tail 50 --host localhost"
	}
	return c
}

func gitSpec(sub string) command {
	what := map[string]string{"pull": "git pull", "status": "git status", "build": "the pool's build (go install ./...)"}[sub]
	return command{name: "pool git " + sub, args: "--host H",
		summary: "Run " + what + " in the pool's repo (the pools file's repo).",
		example: "rbee-keeper pool git " + sub + " --host workstation"}
}

func specPreflight() command {
	return command{name: "pool preflight", args: "--host H[,H...]",
		summary: "Check each pool: SSH and round-trip, rbee-hive version, worker binaries per backend, RAM, disk, GPUs.",
		example: "rbee-keeper pool preflight --host mac,workstation"}
}

func specInfer() command {
	return command{name: "infer", args: "--worker HOST:PORT [--host POOL] --prompt TEXT [--max-tokens N] [--temperature T] [--seed S]",
		summary: "Send a prompt to a worker and print tokens as they arrive, then tokens, ms, tokens/s and the stop reason.\n" +
			"With --host, HOST:PORT is dialled from that pool through its SSH connection: workers listen\n" +
			"on the pool's own 127.0.0.1 and are never exposed on the network.",
		example: "rbee-keeper infer --worker 127.0.0.1:8000 --host mac --prompt 'Why is the sky blue?' --max-tokens 50\n" +
			"rbee-keeper infer --worker 127.0.0.1:8000 --prompt Hello   # a worker on this machine",
		optionalHost: true}
}

// topHelp lists every command.
func (a *app) topHelp(w io.Writer) {
	fmt.Fprint(w, `rbee-keeper runs on the operator's machine and drives rbee-hive on your pools.

Usage:
  rbee-keeper [global flags] COMMAND [SUBCOMMAND] [flags] [args]

Commands:
`)
	for _, c := range allCommands() {
		fmt.Fprintf(w, "  %-26s %s\n", c.name, firstSentence(c.summary))
	}
	fmt.Fprintf(w, `
Global flags:
%s
--host takes localhost (this machine, no SSH), a pool name from the pools file,
or [user@]host[:port]; several hosts (comma separated) run at once, output
prefixed [host].

Example:
  rbee-keeper pool models catalog --host localhost

Run 'rbee-keeper COMMAND --help' for a command's flags and an example.
`, a.globalUsage())
}

func allCommands() []command {
	cs := []command{specStatus(), specCatalog(), specList()}
	for _, s := range []string{"register", "unregister", "download"} {
		cs = append(cs, modelsSpec(s))
	}
	for _, s := range []string{"spawn", "list", "stop", "logs"} {
		cs = append(cs, workerSpec(s))
	}
	for _, s := range []string{"pull", "status", "build"} {
		cs = append(cs, gitSpec(s))
	}
	return append(cs, specPreflight(), specInfer(), specSignoffPlan(), specSignoffReport())
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

// groupHelp answers `rbee-keeper pool`, `pool models --help` and unknown
// sub-commands by listing the commands under the given prefix.
func (a *app) groupHelp(words []string) int {
	var prefix []string
	asked := false
	for _, w := range words {
		if w == "-h" || w == "--help" || w == "help" {
			asked = true
			break
		}
		prefix = append(prefix, w)
	}
	var matches []command
	for len(prefix) > 0 {
		p := strings.Join(prefix, " ") + " "
		matches = matches[:0]
		for _, c := range allCommands() {
			if strings.HasPrefix(c.name+" ", p) {
				matches = append(matches, c)
			}
		}
		if len(matches) > 0 {
			break
		}
		prefix = prefix[:len(prefix)-1]
	}
	w, code := a.stdout, 0
	if !asked {
		w, code = a.stderr, 2
		fmt.Fprintf(w, "error: unknown or incomplete command %q\n", "rbee-keeper "+strings.Join(words, " "))
	}
	fmt.Fprintf(w, "Commands:\n")
	for _, c := range matches {
		fmt.Fprintf(w, "  %-26s %s\n", c.name, firstSentence(c.summary))
	}
	fmt.Fprintln(w, "\nRun 'rbee-keeper COMMAND --help' for a command's flags and an example.")
	return code
}
