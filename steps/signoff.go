package steps

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cucumber/godog"

	"github.com/rbee-go/rbee/keeper/matrix"
	"github.com/rbee-go/rbee/keeper/signoff"
)

// registerSignoffSteps: evidence files for `rbee-keeper signoff report` and
// what its report says.
func registerSignoffSteps(sc *godog.ScenarioContext, w *World) {
	sc.Step(`^the scenario directory is a git checkout with an uncommitted change$`, w.gitCheckout)
	sc.Step(`^a features report where every scenario of checkpoint (\d+) passed$`, func(n int) error { return w.featuresReport(n, "") })
	sc.Step(`^a features report of checkpoint (\d+) where the scenarios tagged "([^"]*)" failed$`, w.featuresReport)
	sc.Step(`^a matrix result on "([^"]*)" where every cell of "([^"]*)" passed$`, func(pools, model string) error {
		return w.matrixResult(pools, model, "")
	})
	sc.Step(`^a matrix result on "([^"]*)" where every cell of "([^"]*)" failed with "(.*)"$`, w.matrixResult)
	sc.Step(`^the sign-off report of checkpoint (\d+) says "(PASS|FAIL|NOT RUN)" for "([^"]*)"(?: with "(.*)")?$`, w.signoffVerdict)
	sc.Step(`^the sign-off report of checkpoint (\d+) names the commit, the dirty tree, the operator, the date and the command line$`, w.signoffMeta)
}

func (w *World) gitCheckout() error {
	git := func(args ...string) error {
		cmd := exec.Command("git", append([]string{"-C", w.Dir, "-c", "user.name=rbee", "-c", "user.email=rbee@example.invalid"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := git("init", "-q"); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(w.Dir, "README.md"), []byte("# pools\n"), 0o644); err != nil {
		return err
	}
	if err := git("add", "README.md"); err != nil {
		return err
	}
	if err := git("commit", "-qm", "first"); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(w.Dir, "README.md"), []byte("# pools, edited\n"), 0o644)
}

// featuresReport writes features.json: one scenario per tag checkpoint n's
// sign-off runs, as godog's cucumber formatter writes them.
func (w *World) featuresReport(n int, failedTag string) error {
	cps, err := signoff.Checkpoints()
	if err != nil {
		return err
	}
	cp, err := signoff.Find(cps, n)
	if err != nil {
		return err
	}
	type tag struct {
		Name string `json:"name"`
	}
	type result struct {
		Status string `json:"status"`
	}
	type step struct {
		Keyword string `json:"keyword"`
		Name    string `json:"name"`
		Result  result `json:"result"`
	}
	type element struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Tags  []tag  `json:"tags"`
		Steps []step `json:"steps"`
	}
	var els []element
	for _, t := range strings.Split(cp.TagExpression(), ",") {
		status := "passed"
		if t == failedTag {
			status = "failed"
		}
		els = append(els, element{Name: "scenario for " + t, Type: "scenario", Tags: []tag{{t}},
			Steps: []step{{Keyword: "Then ", Name: "it holds", Result: result{status}}}})
	}
	doc := []map[string]any{{"uri": fmt.Sprintf("features/cp%d.feature", n), "name": cp.Title, "elements": els}}
	return writeJSON(filepath.Join(w.Dir, "features.json"), doc)
}

// matrixResult writes matrix.json: a cell of model on every pool/backend.
func (w *World) matrixResult(pools, model, failure string) error {
	entries := strings.Split(pools, ",")
	specs, err := matrix.ParsePools(entries)
	if err != nil {
		return err
	}
	run := matrix.Run{Pools: entries}
	for _, s := range specs {
		run.Hives = append(run.Hives, matrix.Hive{Pool: s.Dest, Version: "rbee-hive 0.0.0-test", Backends: s.Backends})
		for _, b := range s.Backends {
			c := matrix.Cell{Pool: s.Dest, Backend: b, Model: model, Status: matrix.Pass, Downloaded: true, Tokens: 8, DecodeTokS: 100}
			if failure != "" {
				c.Status, c.Reason = matrix.Fail, failure
			}
			run.Cells = append(run.Cells, c)
		}
	}
	return writeJSON(filepath.Join(w.Dir, "matrix.json"), run)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func (w *World) signoffReport(n int) (*signoff.Report, error) {
	b, err := os.ReadFile(filepath.Join(w.Dir, "results", fmt.Sprintf("signoff-cp%d.json", n)))
	if err != nil {
		return nil, fmt.Errorf("sign-off report: %w\n%s", err, w.Last())
	}
	var r signoff.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	md, err := os.ReadFile(filepath.Join(w.Dir, "results", fmt.Sprintf("signoff-cp%d.md", n)))
	if err != nil || !strings.Contains(string(md), r.Summary()) {
		return nil, fmt.Errorf("signoff-cp%d.md is missing or does not carry the summary %q (%v)", n, r.Summary(), err)
	}
	return &r, nil
}

func (w *World) signoffVerdict(n int, verdict, id, reason string) error {
	r, err := w.signoffReport(n)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(r.Results, func(res signoff.Result) bool { return res.ID == id })
	if i < 0 {
		return fmt.Errorf("no criterion %s in the report", id)
	}
	res := r.Results[i]
	if string(res.Verdict) != verdict || !strings.Contains(res.Reason, reason) {
		return fmt.Errorf("criterion %s: got %s (%q), want %s with %q", id, res.Verdict, res.Reason, verdict, reason)
	}
	if res.Verdict == signoff.Pass && len(res.Evidence) == 0 {
		return fmt.Errorf("criterion %s passed without evidence", id)
	}
	return nil
}

func (w *World) signoffMeta(n int) error {
	r, err := w.signoffReport(n)
	if err != nil {
		return err
	}
	head, err := exec.Command("git", "-C", w.Dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return err
	}
	var problems []string
	if r.Commit != strings.TrimSpace(string(head)) {
		problems = append(problems, fmt.Sprintf("commit %q, want %q", r.Commit, strings.TrimSpace(string(head))))
	}
	if !r.Dirty || !slices.Contains(r.DirtyFiles, "README.md") {
		problems = append(problems, fmt.Sprintf("dirty %v %v, want the edited README.md", r.Dirty, r.DirtyFiles))
	}
	if !strings.Contains(r.Operator, "@") || r.Date.IsZero() || !strings.Contains(r.Command, "signoff report") {
		problems = append(problems, fmt.Sprintf("operator %q, date %v, command %q", r.Operator, r.Date, r.Command))
	}
	if len(r.Hives) == 0 || r.Hives[0].Version == "" {
		problems = append(problems, fmt.Sprintf("pools' hive versions missing: %+v", r.Hives))
	}
	if len(problems) > 0 {
		return fmt.Errorf("sign-off report: %s", strings.Join(problems, "; "))
	}
	return nil
}
