package signoff

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rbee-go/rbee/keeper/matrix"
)

// Report is a checkpoint's sign-off: who signed what, on which pools, at
// which commit, and each criterion's verdict.
type Report struct {
	Checkpoint int           `json:"checkpoint"`
	Title      string        `json:"title"`
	Commit     string        `json:"commit"`
	Dirty      bool          `json:"dirty"`
	DirtyFiles []string      `json:"dirty_files,omitempty"`
	Date       time.Time     `json:"date"`
	Operator   string        `json:"operator"`
	Command    string        `json:"command"`
	Pools      []string      `json:"pools"`
	Models     string        `json:"models,omitempty"`
	Hives      []matrix.Hive `json:"hives"`
	Features   string        `json:"features_report,omitempty"` // the cucumber JSON judged
	Results    []Result      `json:"criteria"`
	Omitted    []Omitted     `json:"omitted,omitempty"`
	Counts     Counts        `json:"counts"`
}

// Counts tallies the verdicts.
type Counts struct {
	Pass   int `json:"pass"`
	Fail   int `json:"fail"`
	NotRun int `json:"not_run"`
}

// Tally counts the results' verdicts into r.Counts.
func (r *Report) Tally() {
	r.Counts = Counts{}
	for _, res := range r.Results {
		switch res.Verdict {
		case Pass:
			r.Counts.Pass++
		case Fail:
			r.Counts.Fail++
		default:
			r.Counts.NotRun++
		}
	}
}

// Signed reports whether every criterion passed (the only exit 0).
func (r *Report) Signed() bool {
	return len(r.Results) > 0 && r.Counts.Pass == len(r.Results)
}

// Summary is the one line a terminal shows at the end.
func (r *Report) Summary() string {
	verdict := "SIGNED OFF"
	if !r.Signed() {
		verdict = "NOT SIGNED OFF"
	}
	return fmt.Sprintf("checkpoint %d: %s: %d passed, %d failed, %d not run (of %d criteria)",
		r.Checkpoint, verdict, r.Counts.Pass, r.Counts.Fail, r.Counts.NotRun, len(r.Results))
}

// Write writes signoff-cpN.json and signoff-cpN.md under dir and returns
// the Markdown file's path.
func (r *Report) Write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("results dir: %w", err)
	}
	base := filepath.Join(dir, fmt.Sprintf("signoff-cp%d", r.Checkpoint))
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode sign-off: %w", err)
	}
	if err := os.WriteFile(base+".json", append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(base+".md", []byte(r.Markdown()), 0o644); err != nil {
		return "", err
	}
	return base + ".md", nil
}

// Markdown renders the report for people.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Checkpoint %d sign-off: %s\n\n", r.Checkpoint, r.Title)
	fmt.Fprintf(&b, "**%s**\n\n", r.Summary())
	dirty := "clean tree"
	if r.Dirty {
		dirty = fmt.Sprintf("**dirty tree** (%d changed files: %s)", len(r.DirtyFiles), strings.Join(r.DirtyFiles, ", "))
	}
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| commit | `%s`, %s |\n", r.Commit, dirty)
	fmt.Fprintf(&b, "| date | %s |\n", r.Date.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "| operator | %s |\n", r.Operator)
	fmt.Fprintf(&b, "| command | `%s` |\n", r.Command)
	fmt.Fprintf(&b, "| pools | %s |\n", strings.Join(r.Pools, ", "))
	if r.Models != "" {
		fmt.Fprintf(&b, "| models | %s |\n", r.Models)
	}
	if r.Features != "" {
		fmt.Fprintf(&b, "| scenarios | `%s` |\n", r.Features)
	}
	b.WriteString("\n## Pools\n\n| pool | rbee-hive --version | backends |\n|---|---|---|\n")
	for _, h := range r.Hives {
		v := h.Version
		if h.Error != "" {
			v = "unreachable: " + h.Error
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", h.Pool, cell(v), strings.Join(h.Backends, ", "))
	}
	b.WriteString("\n## Criteria\n\n| | section | criterion (the plan's words) | evidence | reason |\n|---|---|---|---|---|\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", res.Verdict, res.Section, cell(res.Text),
			cell(strings.Join(res.Evidence, "; ")), cell(res.Reason))
	}
	if len(r.Omitted) > 0 {
		b.WriteString("\n## Gate items that do not apply (not counted)\n\n")
		for _, o := range r.Omitted {
			fmt.Fprintf(&b, "- %s: %s\n", o.Text, o.Why)
		}
	}
	b.WriteString("\nNOT RUN means the evidence was not there to look at (a backend no pool offered, a model not in the run, features or commands not run): it is never a pass.\n")
	return b.String()
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
