package signoff

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/rbee-go/rbee/keeper/matrix"
)

// Scenario is one scenario of a features run and how it ended.
type Scenario struct {
	Feature string   `json:"feature"`
	Name    string   `json:"name"`
	Tags    []string `json:"tags"`
	Passed  bool     `json:"passed"`
	Failed  string   `json:"failed,omitempty"` // the first step that did not pass
}

// cucumber is the part of godog's cucumber JSON report that is read.
type cucumber []struct {
	URI  string `json:"uri"`
	Name string `json:"name"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Elements []struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Tags []struct {
			Name string `json:"name"`
		} `json:"tags"`
		Steps []struct {
			Keyword string `json:"keyword"`
			Name    string `json:"name"`
			Result  struct {
				Status string `json:"status"`
			} `json:"result"`
		} `json:"steps"`
	} `json:"elements"`
}

// ReadScenarios reads the scenarios of a godog cucumber JSON report.
func ReadScenarios(path string) ([]Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("features report: %w", err)
	}
	return ParseScenarios(b)
}

// ParseScenarios parses a godog cucumber JSON report. A scenario passed
// when every step passed (strict: undefined and pending steps fail it).
func ParseScenarios(b []byte) ([]Scenario, error) {
	var doc cucumber
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("features report is not cucumber JSON: %w", err)
	}
	var out []Scenario
	for _, f := range doc {
		for _, e := range f.Elements {
			if e.Type == "background" {
				continue
			}
			s := Scenario{Feature: f.URI, Name: e.Name, Passed: len(e.Steps) > 0}
			for _, t := range f.Tags {
				s.Tags = appendNew(s.Tags, t.Name)
			}
			for _, t := range e.Tags {
				s.Tags = appendNew(s.Tags, t.Name)
			}
			for _, st := range e.Steps {
				if st.Result.Status != "passed" && s.Failed == "" {
					s.Passed = false
					s.Failed = fmt.Sprintf("%s%s (%s)", st.Keyword, st.Name, st.Result.Status)
				}
			}
			if len(e.Steps) == 0 {
				s.Failed = "no steps"
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func appendNew(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// ReadMatrix reads a matrix run (results/matrix.json).
func ReadMatrix(path string) (*matrix.Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("matrix results: %w", err)
	}
	var run matrix.Run
	if err := json.Unmarshal(b, &run); err != nil {
		return nil, fmt.Errorf("matrix results %s: %w", path, err)
	}
	return &run, nil
}

// CommandResult is one evidence command and how it ended.
type CommandResult struct {
	Command string `json:"command"`
	Exit    int    `json:"exit"`
	Tail    string `json:"tail,omitempty"` // last lines of its output when it failed
	Ms      int64  `json:"ms"`
}

// Runner runs evidence commands; the zero value runs none (they are then
// NOT RUN).
type Runner struct {
	Dir     string        // module root
	Timeout time.Duration // per command; 0 = 20 minutes
	cache   map[string]CommandResult
}

// Run runs one command with sh -c in the module root, once per report.
func (r *Runner) Run(ctx context.Context, command string) CommandResult {
	if res, ok := r.cache[command]; ok {
		return res
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir, cmd.Stdout, cmd.Stderr = r.Dir, &out, &out
	start := time.Now()
	err := cmd.Run()
	res := CommandResult{Command: command, Ms: time.Since(start).Milliseconds()}
	if err != nil {
		res.Exit = -1
		if cmd.ProcessState != nil {
			res.Exit = cmd.ProcessState.ExitCode()
		}
		res.Tail = lastLines(out.String(), 5)
		if ctx.Err() != nil {
			res.Tail = fmt.Sprintf("timed out after %s\n%s", timeout, res.Tail)
		}
	}
	if r.cache == nil {
		r.cache = map[string]CommandResult{}
	}
	r.cache[command] = res
	return res
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
