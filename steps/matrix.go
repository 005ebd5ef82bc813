package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/keeper/matrix"
)

// matrixRun is the CP4 features' state: one matrix run through the
// keeper/matrix library (the runner behind TestMatrix) over harness pools,
// with the scenario's built binaries.
type matrixRun struct {
	w      *World
	cfg    matrix.Config
	runner *matrix.Runner
	run    matrix.Run
	err    error // Setup's error: the run did not start
	took   time.Duration
}

// matrixTimeout bounds a whole matrix run of a scenario.
const matrixTimeout = 15 * time.Minute

// registerMatrixSteps: running the matrix and checking its results
// (features/cp4_multi_model.feature).
func registerMatrixSteps(sc *godog.ScenarioContext, w *World) {
	m := &matrixRun{w: w, cfg: matrix.Config{Models: matrix.SetTiny, CellTimeout: 5 * time.Minute}}
	sc.Step(`^the matrix pools "([^"]*)"$`, func(s string) { m.cfg.Pools = strings.Split(s, ",") })
	sc.Step(`^the matrix models "([^"]*)"$`, func(s string) { m.cfg.Models = s })
	sc.Step(`^the matrix hub "([^"]*)"$`, func(s string) { m.cfg.Hub = s })
	sc.Step(`^the matrix runs$`, m.runMatrix)
	sc.Step(`^every model is downloaded on every pool$`, m.allDownloaded)
	sc.Step(`^every cell passes$`, m.allPass)
	sc.Step(`^no worker is left on any pool$`, m.noWorkers)
	sc.Step(`^the results table shows every model as passed on "([^"]*)"$`, m.tableShows)
	sc.Step(`^the results hold (\d+) cells with size, load, first-token and tokens/s figures$`, m.resultsHold)
	sc.Step(`^the matrix fails within (\d+) seconds with "([^"]*)"$`, m.failsWith)
	registerRustWorkerMatrixSteps(sc, m)
	sc.Step(`^no cell ran$`, func() error {
		if m.runner != nil || len(m.run.Cells) > 0 {
			return fmt.Errorf("%d cells ran", len(m.run.Cells))
		}
		return nil
	})
}

func (m *matrixRun) resultsDir() string { return filepath.Join(m.w.Dir, "results") }

func (m *matrixRun) runMatrix(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, matrixTimeout)
	defer cancel()
	m.cfg.WorkDir, m.cfg.Bins = filepath.Join(m.w.Dir, "matrix"), m.w.Bins
	if err := os.MkdirAll(m.cfg.WorkDir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	m.runner, m.err = matrix.Setup(ctx, m.cfg)
	if m.err != nil {
		m.runner, m.took = nil, time.Since(start)
		return nil // a step asserts on the failure
	}
	r := m.runner
	m.w.Cleanup(func() { _ = r.Close() })
	m.run = r.Run(ctx, nil)
	m.run.Command = r.CommandLine(false)
	m.took = time.Since(start)
	return matrix.WriteResults(m.resultsDir(), m.run)
}

func (m *matrixRun) started() error {
	if m.err != nil {
		return fmt.Errorf("the matrix did not start: %v", m.err)
	}
	if m.runner == nil {
		return fmt.Errorf("the matrix has not run")
	}
	return nil
}

func (m *matrixRun) allDownloaded(ctx context.Context) error {
	if err := m.started(); err != nil {
		return err
	}
	for _, p := range m.runner.Pools {
		k, host := p.Keeper()
		models, err := k.Models(ctx, host)
		if err != nil {
			return fmt.Errorf("pool %s: %w", p.Name, err)
		}
		for _, want := range m.runner.Models {
			if !downloaded(models, want.ID) {
				return fmt.Errorf("pool %s: %s is not downloaded (models list: %v)", p.Name, want.ID, modelIDs(models))
			}
		}
	}
	return nil
}

func downloaded(ms []catalog.Model, id string) bool {
	for _, m := range ms {
		if m.ID == id && m.Downloaded {
			return true
		}
	}
	return false
}

func modelIDs(ms []catalog.Model) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func (m *matrixRun) allPass() error {
	if err := m.started(); err != nil {
		return err
	}
	want := 0
	for _, p := range m.runner.Pools {
		want += len(p.Backends) * len(m.runner.Models)
	}
	if len(m.run.Cells) != want {
		return fmt.Errorf("%d cells ran, want %d", len(m.run.Cells), want)
	}
	var bad []string
	for _, c := range m.run.Cells {
		if c.Status != matrix.Pass {
			bad = append(bad, fmt.Sprintf("%s on %s: %s %s", c.Model, c.Column(), c.Status, c.Reason))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("cells not passed:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

func (m *matrixRun) noWorkers(ctx context.Context) error {
	if err := m.started(); err != nil {
		return err
	}
	for _, p := range m.runner.Pools {
		k, host := p.Keeper()
		var list []json.RawMessage
		if err := k.RunJSON(ctx, host, []string{"worker", "list"}, &list); err != nil {
			return fmt.Errorf("pool %s: %w", p.Name, err)
		}
		if len(list) > 0 {
			return fmt.Errorf("pool %s: %d workers left: %s", p.Name, len(list), list)
		}
	}
	return nil
}

// tableShows checks results/MODEL_SUPPORT.md: a column per pool/backend and
// a ✅ in every one of them on every model's row.
func (m *matrixRun) tableShows(columns string) error {
	b, err := os.ReadFile(filepath.Join(m.resultsDir(), matrix.ResultsMarkdown))
	if err != nil {
		return fmt.Errorf("MODEL_SUPPORT.md was not written: %w", err)
	}
	doc := string(b)
	cols := strings.Split(columns, ",")
	header := "| model | repo | architecture | " + strings.Join(cols, " | ") + " |"
	if !strings.Contains(doc, header) {
		return fmt.Errorf("MODEL_SUPPORT.md has no table header %q:\n%s", header, doc)
	}
	for _, mdl := range m.runner.Models {
		row := fmt.Sprintf("| %s | %s | %s |%s\n", mdl.ID, mdl.Repo, mdl.Architecture, strings.Repeat(" ✅ |", len(cols)))
		if !strings.Contains(doc, row) {
			return fmt.Errorf("MODEL_SUPPORT.md has no all-passed row %q:\n%s", strings.TrimSpace(row), doc)
		}
	}
	for _, want := range []string{matrix.BeginMatrix, matrix.EndMatrix, "tiny random-weight models", m.run.Command} {
		if !strings.Contains(doc, want) {
			return fmt.Errorf("MODEL_SUPPORT.md lacks %q:\n%s", want, doc)
		}
	}
	return nil
}

func (m *matrixRun) resultsHold(n int) error {
	b, err := os.ReadFile(filepath.Join(m.resultsDir(), matrix.ResultsJSON))
	if err != nil {
		return fmt.Errorf("matrix.json was not written: %w", err)
	}
	var run matrix.Run
	if err := json.Unmarshal(b, &run); err != nil {
		return fmt.Errorf("matrix.json: %w", err)
	}
	if len(run.Cells) != n {
		return fmt.Errorf("matrix.json holds %d cells, want %d", len(run.Cells), n)
	}
	for _, c := range run.Cells {
		if c.ModelBytes <= 0 || c.SpawnReadyMs <= 0 || c.Tokens <= 0 || c.DecodeTokS <= 0 || c.WallMs <= 0 {
			return fmt.Errorf("cell %s on %s lacks figures: %+v", c.Model, c.Column(), c)
		}
	}
	return nil
}

func (m *matrixRun) failsWith(secs int, want string) error {
	if m.err == nil {
		return fmt.Errorf("the matrix started; want it to fail with %q", want)
	}
	if !strings.Contains(m.err.Error(), want) {
		return fmt.Errorf("error %q does not contain %q", m.err, want)
	}
	if m.took > time.Duration(secs)*time.Second {
		return fmt.Errorf("the matrix took %s to fail, want at most %ds", m.took.Round(time.Millisecond), secs)
	}
	return nil
}
