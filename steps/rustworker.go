package steps

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cucumber/godog"

	"github.com/rbee-go/rbee/hive/workers"
	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/rustworker"
	"github.com/rbee-go/rbee/keeper/matrix"
)

// registerRustWorkerSteps: pools that run the seed-era Rust worker (its
// stand-in), worker profiles and a fake GPU (features/cp3_workers.feature).
// ${RUST_SEED} expands to the directory of the stand-in's three binaries.
func registerRustWorkerSteps(sc *godog.ScenarioContext, w *World) {
	sc.Step(`^a fake GPU on this host$`, w.fakeGPU)
	sc.Step(`^the worker profiles:$`, w.workerProfiles)
	sc.Step(`^the Rust worker stand-in dies right after its ready callback$`, func() {
		w.Env[rustworker.EnvDieAfterCallback] = "1"
	})
}

// fakeGPU puts the test bed's fake nvidia-smi first on the processes' PATH;
// the stand-in's cuda build registers with it.
func (w *World) fakeGPU() error {
	g, err := harness.NewFakeGPU(filepath.Join(w.Dir, "fake-gpu"))
	if err != nil {
		return err
	}
	w.Env["PATH"] = g.BinDir + string(os.PathListSeparator) + w.Bins.PathEnv()
	w.Env[rustworker.EnvFakeGPU] = g.Dir
	return nil
}

// workerProfiles writes <home>/worker-args.toml.
func (w *World) workerProfiles(doc *godog.DocString) error {
	if err := os.MkdirAll(w.Home, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(w.Home, workers.ArgsFile), []byte(w.Expand(doc.Content)+"\n"), 0o644)
}

// registerRustWorkerMatrixSteps: matrix runs on pools with the Rust
// worker stand-in and a fake GPU, and the reasons of single cells
// (features/cp4_multi_model.feature).
func registerRustWorkerMatrixSteps(sc *godog.ScenarioContext, m *matrixRun) {
	sc.Step(`^the matrix pools run the Rust worker for cuda on a fake GPU$`, func() {
		m.cfg.TestBed = matrix.TestBed{WorkerProfiles: matrix.RustSeedProfiles(m.w.Bins), FakeGPU: true}
	})
	sc.Step(`^the matrix pools run a CPU-only build named llm-worker-rbee-cuda on a fake GPU$`, func() error {
		bin, err := harness.MislabelledCUDA(m.w.Dir, m.w.Bins)
		m.cfg.TestBed = matrix.TestBed{WorkerProfiles: fmt.Sprintf("[backends.cuda]\nbin = %q\n", bin), FakeGPU: true}
		return err
	})
	sc.Step(`^the cell "([^"]*)" on "([^"]*)" passes$`, func(model, column string) error { return m.cellIs(model, column, matrix.Pass, "") })
	sc.Step(`^the cell "([^"]*)" on "([^"]*)" fails with "(.*)"$`, func(model, column, reason string) error {
		return m.cellIs(model, column, matrix.Fail, reason)
	})
	sc.Step(`^the results table shows "(.*)" for "([^"]*)"$`, m.tableHas)
}

func (m *matrixRun) cell(model, column string) (matrix.Cell, error) {
	if err := m.started(); err != nil {
		return matrix.Cell{}, err
	}
	for _, c := range m.run.Cells {
		if c.Model == model && c.Column() == column {
			return c, nil
		}
	}
	return matrix.Cell{}, fmt.Errorf("no cell %s on %s", model, column)
}

// cellIs checks a cell's status and that its reason contains reason.
func (m *matrixRun) cellIs(model, column string, st matrix.Status, reason string) error {
	c, err := m.cell(model, column)
	if err != nil {
		return err
	}
	if c.Status != st || !strings.Contains(c.Reason, reason) {
		return fmt.Errorf("cell %s on %s is %s (%s), want %s with %q", model, column, c.Status, c.Reason, st, reason)
	}
	return nil
}

// tableHas checks MODEL_SUPPORT.md's row of model shows text verbatim.
func (m *matrixRun) tableHas(text, model string) error {
	b, err := os.ReadFile(filepath.Join(m.resultsDir(), matrix.ResultsMarkdown))
	if err != nil {
		return fmt.Errorf("MODEL_SUPPORT.md was not written: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| "+model+" |") && strings.Contains(line, text) {
			return nil
		}
	}
	return fmt.Errorf("MODEL_SUPPORT.md has no row of %s showing %q:\n%s", model, text, b)
}
