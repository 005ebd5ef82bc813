package signoff

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rbee-go/rbee/keeper/matrix"
)

// Verdict of one criterion.
type Verdict string

// Verdicts. NOT RUN is never a pass: the evidence was not there to look at.
const (
	Pass   Verdict = "PASS"
	Fail   Verdict = "FAIL"
	NotRun Verdict = "NOT RUN"
)

// Evidence is what a sign-off judges from. A nil part was not run: every
// criterion relying on it is NOT RUN.
type Evidence struct {
	Scenarios []Scenario  // nil: the features did not run
	Matrix    *matrix.Run // nil: the matrix did not run
	Commands  *Runner     // nil: no evidence commands are run
}

// Result is one criterion's verdict with its evidence and, for a FAIL or
// NOT RUN, the reason.
type Result struct {
	ID       string   `json:"id"`
	Section  string   `json:"section"`
	Text     string   `json:"text"`
	Verdict  Verdict  `json:"verdict"`
	Evidence []string `json:"evidence"`
	Reason   string   `json:"reason,omitempty"`
}

// part is the verdict of one kind of evidence of a criterion.
type part struct {
	verdict  Verdict
	evidence []string
	reasons  []string
}

// Judge gives every criterion of cp its verdict.
func Judge(ctx context.Context, cp Checkpoint, ev Evidence) []Result {
	out := make([]Result, 0, len(cp.Criteria))
	for _, c := range cp.Criteria {
		var parts []part
		if len(c.Tags) > 0 {
			parts = append(parts, judgeTags(c.Tags, ev.Scenarios))
		}
		if len(c.Commands) > 0 {
			parts = append(parts, judgeCommands(ctx, c.Commands, ev.Commands))
		}
		if c.Cells != nil {
			parts = append(parts, judgeCells(*c.Cells, ev.Matrix))
		}
		out = append(out, combine(c, parts))
	}
	return out
}

// combine: any FAIL fails the criterion, else any NOT RUN leaves it not run.
func combine(c Criterion, parts []part) Result {
	r := Result{ID: c.ID, Section: c.Section, Text: c.Text, Verdict: Pass}
	var fails, notRun []string
	for _, p := range parts {
		r.Evidence = append(r.Evidence, p.evidence...)
		switch p.verdict {
		case Fail:
			fails = append(fails, p.reasons...)
		case NotRun:
			notRun = append(notRun, p.reasons...)
		}
	}
	switch {
	case len(fails) > 0:
		r.Verdict, r.Reason = Fail, strings.Join(fails, "; ")
	case len(notRun) > 0:
		r.Verdict, r.Reason = NotRun, strings.Join(notRun, "; ")
	}
	return r
}

func judgeTags(tags []string, scenarios []Scenario) part {
	want := strings.Join(tags, " or ")
	if scenarios == nil {
		return part{verdict: NotRun, reasons: []string{"the features did not run (" + want + ")"}}
	}
	p := part{verdict: Pass}
	n := 0
	for _, s := range scenarios {
		if !slices.ContainsFunc(tags, func(t string) bool { return slices.Contains(s.Tags, t) }) {
			continue
		}
		n++
		if !s.Passed {
			p.verdict = Fail
			p.reasons = append(p.reasons, fmt.Sprintf("scenario %q (%s) failed at %s", s.Name, s.Feature, s.Failed))
		}
	}
	if n == 0 {
		return part{verdict: NotRun, reasons: []string{"no scenario tagged " + want + " ran"}}
	}
	p.evidence = append(p.evidence, fmt.Sprintf("%d scenario(s) tagged %s, %d passed", n, want, n-len(p.reasons)))
	return p
}

func judgeCommands(ctx context.Context, commands []string, r *Runner) part {
	if r == nil {
		return part{verdict: NotRun, reasons: []string{"evidence commands were not run: " + strings.Join(commands, "; ")}}
	}
	p := part{verdict: Pass}
	for _, c := range commands {
		res := r.Run(ctx, c)
		if res.Exit != 0 {
			p.verdict = Fail
			p.reasons = append(p.reasons, fmt.Sprintf("`%s` exited %d: %s", c, res.Exit, oneLine(res.Tail)))
			continue
		}
		p.evidence = append(p.evidence, fmt.Sprintf("`%s` exit 0 (%d ms)", c, res.Ms))
	}
	return p
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
