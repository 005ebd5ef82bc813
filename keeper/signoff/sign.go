package signoff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rbee-go/rbee/keeper/matrix"
)

// Options say what to sign and where the evidence is.
type Options struct {
	Checkpoint  int
	Pools       []string // DEST:BACKEND as given to the matrix
	Models      string   // the matrix -models value
	Features    string   // godog cucumber JSON of the checkpoint's scenarios ("" = not run)
	Matrix      string   // results/matrix.json of the run ("" = not run)
	Dir         string   // module root: git state and evidence commands
	RunCommands bool     // run the criteria's evidence commands
	Command     string   // the command line that signed, for the report
	Getenv      func(string) string
	// Hives asks pools that are not in the matrix results for their
	// version and backends (nil: reported as not asked).
	Hives func(ctx context.Context, pools []string) []matrix.Hive
}

// Sign judges checkpoint o.Checkpoint and returns its report. Missing
// evidence files the options name are errors; evidence not named is NOT RUN.
func Sign(ctx context.Context, o Options) (*Report, error) {
	cps, err := Checkpoints()
	if err != nil {
		return nil, err
	}
	cp, err := Find(cps, o.Checkpoint)
	if err != nil {
		return nil, err
	}
	var ev Evidence
	if o.Features != "" {
		if ev.Scenarios, err = ReadScenarios(o.Features); err != nil {
			return nil, err
		}
		if ev.Scenarios == nil {
			ev.Scenarios = []Scenario{} // the features ran, and none matched
		}
	}
	if o.Matrix != "" {
		if ev.Matrix, err = ReadMatrix(o.Matrix); err != nil {
			return nil, err
		}
	}
	if o.RunCommands {
		ev.Commands = &Runner{Dir: o.Dir}
	}
	commit, dirty, err := GitState(ctx, o.Dir)
	if err != nil {
		return nil, err
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	r := &Report{
		Checkpoint: cp.N, Title: cp.Title, Commit: commit, Dirty: len(dirty) > 0, DirtyFiles: dirty,
		Date: time.Now().UTC(), Operator: Operator(getenv), Command: o.Command, Pools: o.Pools,
		Models: o.Models, Features: o.Features, Omitted: cp.Omitted,
	}
	r.Hives = hives(ctx, o, ev.Matrix)
	r.Results = Judge(ctx, cp, ev)
	r.Tally()
	return r, nil
}

// hives: what the matrix run recorded, else what the pools say now.
func hives(ctx context.Context, o Options, run *matrix.Run) []matrix.Hive {
	if run != nil && len(run.Hives) > 0 {
		return run.Hives
	}
	specs, err := matrix.ParsePools(o.Pools)
	if err != nil || o.Hives == nil {
		return nil
	}
	var dests []string
	for _, s := range specs {
		dests = append(dests, s.Dest)
	}
	return o.Hives(ctx, dests)
}

// CheckPools validates a -pools list for a sign-off (a usage error).
func CheckPools(pools []string) error {
	if len(pools) == 0 {
		return nil
	}
	if _, err := matrix.ParsePools(pools); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return nil
}

// IsUsage reports whether err is a command-line mistake.
func IsUsage(err error) bool { return errors.Is(err, ErrUsage) }
