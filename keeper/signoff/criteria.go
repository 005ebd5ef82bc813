// Package signoff judges a checkpoint of the plan: each success criterion of
// criteria.toml against its evidence (scenarios run, matrix cells, commands),
// and writes the sign-off report (results/signoff-cpN.md and .json).
package signoff

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed criteria.toml
var criteriaTOML []byte

// Checkpoint is one checkpoint of the plan and its success criteria.
type Checkpoint struct {
	N        int         `toml:"n"`
	Title    string      `toml:"title"`
	Criteria []Criterion `toml:"criterion"`
	Omitted  []Omitted   `toml:"omitted"`
}

// Omitted is a gate item of the plan that does not apply here, and why.
type Omitted struct {
	Text string `toml:"text" json:"text"`
	Why  string `toml:"why" json:"why"`
}

// Criterion is one success criterion and the evidence that proves it.
type Criterion struct {
	ID       string    `toml:"id"`
	Section  string    `toml:"section"`
	Text     string    `toml:"text"`
	Tags     []string  `toml:"tags"`
	Commands []string  `toml:"commands"`
	Cells    *CellRule `toml:"cells"`
}

// CellRule selects matrix cells and says what they must show.
type CellRule struct {
	Models   []string `toml:"models"`
	Backends []string `toml:"backends"` // empty: any backend
	Need     string   `toml:"need"`     // "passed" or "downloaded"
}

// Needs of a CellRule.
const (
	NeedPassed     = "passed"
	NeedDownloaded = "downloaded"
)

// Checkpoints parses the embedded criteria file and checks it is coherent.
func Checkpoints() ([]Checkpoint, error) { return parseCheckpoints(criteriaTOML) }

func parseCheckpoints(data []byte) ([]Checkpoint, error) {
	var doc struct {
		Checkpoint []Checkpoint `toml:"checkpoint"`
	}
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		return nil, fmt.Errorf("criteria: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("criteria: unknown key %s", und[0])
	}
	for i, cp := range doc.Checkpoint {
		if cp.N != i+1 {
			return nil, fmt.Errorf("criteria: checkpoint %d listed as number %d", i+1, cp.N)
		}
		seen := map[string]bool{}
		for _, c := range cp.Criteria {
			if err := c.check(cp.N); err != nil {
				return nil, fmt.Errorf("criteria: checkpoint %d: %w", cp.N, err)
			}
			if seen[c.ID] {
				return nil, fmt.Errorf("criteria: checkpoint %d: id %q twice", cp.N, c.ID)
			}
			seen[c.ID] = true
		}
	}
	return doc.Checkpoint, nil
}

func (c Criterion) check(n int) error {
	switch {
	case c.ID == "" || c.Text == "" || c.Section == "":
		return fmt.Errorf("criterion %q needs id, section and text", c.ID)
	case !strings.HasPrefix(c.ID, fmt.Sprintf("cp%d.", n)):
		return fmt.Errorf("criterion %q: id must start with cp%d.", c.ID, n)
	case len(c.Tags) == 0 && len(c.Commands) == 0 && c.Cells == nil:
		return fmt.Errorf("criterion %q names no evidence", c.ID)
	}
	for _, t := range c.Tags {
		if !strings.HasPrefix(t, "@cp") {
			return fmt.Errorf("criterion %q: tag %q must look like @cpN.name", c.ID, t)
		}
	}
	if r := c.Cells; r != nil {
		if len(r.Models) == 0 || (r.Need != NeedPassed && r.Need != NeedDownloaded) {
			return fmt.Errorf("criterion %q: cells need models and need = %q or %q", c.ID, NeedPassed, NeedDownloaded)
		}
	}
	return nil
}

// Find returns checkpoint n, or a usage error listing the valid numbers.
func Find(cps []Checkpoint, n int) (Checkpoint, error) {
	if n < 1 || n > len(cps) {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint %d does not exist; the plan has checkpoints 1 to %d", ErrUsage, n, len(cps))
	}
	return cps[n-1], nil
}

// TagExpression is the godog tag expression that runs the checkpoint's
// scenarios: its own tag and every criterion tag it relies on.
func (cp Checkpoint) TagExpression() string {
	tags := []string{fmt.Sprintf("@cp%d", cp.N)}
	for _, c := range cp.Criteria {
		for _, t := range c.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	return strings.Join(tags, ",")
}

// NeedsMatrix reports whether any criterion is judged from matrix cells.
func (cp Checkpoint) NeedsMatrix() bool {
	return slices.ContainsFunc(cp.Criteria, func(c Criterion) bool { return c.Cells != nil })
}
