package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rbee-go/rbee/keeper/matrix"
	"github.com/rbee-go/rbee/keeper/signoff"
)

func specSignoffPlan() command {
	return command{name: "signoff plan", args: "CP",
		summary: "Print what checkpoint CP's sign-off runs: a line 'tags EXPR' (the godog tag expression of its scenarios: @cpN and every criterion tag it relies on) and a line 'matrix yes|no'.",
		example: "rbee-keeper signoff plan 3\ngo test -run TestFeatures . -godog.tags=\"$(rbee-keeper signoff plan 3 | sed -n 's/^tags //p')\""}
}

func specSignoffReport() command {
	return command{name: "signoff report", args: "CP [--features FILE] [--matrix FILE] [--matrix-pools LIST] [--models SET] [--commands] [--out DIR]",
		summary: "Judge checkpoint CP's success criteria from the evidence (results/signoff-cpN.md, .json). " +
			"Exit 0 only\nwhen every criterion passed; a criterion without evidence (a backend no pool offered, features\n" +
			"or matrix not run) is NOT RUN, never PASS. 'make signoff CP=N' runs this last.",
		example: "rbee-keeper signoff report 3 --features results/signoff-cp3.cucumber.json \\\n" +
			"    --matrix results/matrix.json --matrix-pools mac:metal,workstation:cuda --models qwen-0.5b --commands",
		optionalHost: true}
}

func (a *app) signoffPlan(args []string) int {
	c := specSignoffPlan()
	fs := a.flags(c, nil)
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	cp, code := a.checkpoint(fs.Arg(0))
	if code != 0 {
		return code
	}
	matrix := "no"
	if cp.NeedsMatrix() {
		matrix = "yes"
	}
	fmt.Fprintf(a.stdout, "tags %s\nmatrix %s\n", cp.TagExpression(), matrix)
	return 0
}

func (a *app) signoffReport(args []string) int {
	c := specSignoffReport()
	fs := a.flags(c, nil)
	var o signoff.Options
	fs.StringVar(&o.Features, "features", "", "godog cucumber JSON of the checkpoint's scenarios (none: scenario criteria are NOT RUN)")
	fs.StringVar(&o.Matrix, "matrix", "", "matrix results (results/matrix.json) of the run (none: cell criteria are NOT RUN)")
	pools := fs.String("matrix-pools", "", "the pools of the run, DEST:BACKEND comma separated, as given to the matrix (-pools)")
	fs.StringVar(&o.Models, "models", "", "the matrix -models value of the run")
	fs.BoolVar(&o.RunCommands, "commands", false, "run the criteria's evidence commands (build, unit tests, gofmt, vet) in the module root")
	out := fs.String("out", "results", "directory for signoff-cpN.md and .json")
	fs.StringVar(&o.Command, "command-line", "", "the command line to record (default: this one)")
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	cp, code := a.checkpoint(fs.Arg(0))
	if code != 0 {
		return code
	}
	o.Checkpoint = cp.N
	if *pools != "" {
		o.Pools = strings.Split(*pools, ",")
	}
	if err := signoff.CheckPools(o.Pools); err != nil {
		return a.usageError("signoff report: "+strings.TrimPrefix(err.Error(), "usage: "), "e.g. --matrix-pools localhost:cpu,mac:metal")
	}
	if o.Command == "" {
		o.Command = "rbee-keeper " + strings.Join(os.Args[1:], " ")
	}
	var err error
	if o.Dir, err = os.Getwd(); err != nil {
		return a.fail(err)
	}
	o.Getenv = a.getenv
	o.Hives = a.signoffHives
	ctx, cancel := signalContext()
	defer cancel()
	r, err := signoff.Sign(ctx, o)
	if err != nil {
		return a.fail(err)
	}
	path, err := r.Write(*out)
	if err != nil {
		return a.fail(err)
	}
	for _, res := range r.Results {
		line := fmt.Sprintf("%-8s %s", res.Verdict, res.Text)
		if res.Reason != "" {
			line += ": " + res.Reason
		}
		fmt.Fprintln(a.stdout, line)
	}
	fmt.Fprintf(a.stdout, "%s\nreport: %s\n", r.Summary(), path)
	if !r.Signed() {
		return 1
	}
	return 0
}

// checkpoint parses CP: a number of the plan's checkpoints (usage error otherwise).
func (a *app) checkpoint(arg string) (signoff.Checkpoint, int) {
	cps, err := signoff.Checkpoints()
	if err != nil {
		return signoff.Checkpoint{}, a.fail(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil {
		return signoff.Checkpoint{}, a.usageError(fmt.Sprintf("signoff: checkpoint %q is not a number", arg),
			fmt.Sprintf("give one of 1 to %d, e.g. 'make signoff CP=1'", len(cps)))
	}
	cp, err := signoff.Find(cps, n)
	if err != nil {
		return signoff.Checkpoint{}, a.usageError("signoff: "+strings.TrimPrefix(err.Error(), "usage: "), "e.g. 'make signoff CP=1'")
	}
	return cp, 0
}

// signoffHives asks each pool's hive for its version and backends; a test
// pool of the harness exists only while a matrix runs.
func (a *app) signoffHives(ctx context.Context, dests []string) []matrix.Hive {
	out := make([]matrix.Hive, len(dests))
	k, err := a.keeper()
	for i, d := range dests {
		out[i] = matrix.Hive{Pool: d}
		switch {
		case matrix.IsHarness(d):
			out[i].Error = "a test pool that exists only while the matrix runs"
		case err != nil:
			out[i].Error = err.Error()
		default:
			st, serr := k.Status(ctx, d)
			if serr != nil {
				out[i].Error = serr.Error()
				continue
			}
			out[i].Version, out[i].Backends = st.Version, st.Backends
		}
	}
	if k != nil {
		_ = k.Close()
	}
	return out
}
