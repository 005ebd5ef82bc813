package matrix

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/testflags"
)

// deadlineMargin leaves time before go test's -timeout panic (which runs no
// cleanup) to cancel the cells and stop their workers.
const deadlineMargin = 45 * time.Second

// RunT is TestMatrix: the matrix of the -pools/-models/-hub flags as
// subtests pool/backend/model (so -run selects cells), pools in parallel,
// cells in sequence per pool. It writes results/matrix.json and
// results/MODEL_SUPPORT.md under the module root and, with -update, the
// tracked MODEL_SUPPORT.md. Ctrl-C or SIGTERM cancels the cells; their
// workers are stopped either way.
func RunT(t *testing.T, f testflags.Matrix) {
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	t.Cleanup(stop)
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-deadlineMargin))
		t.Cleanup(cancel)
	}
	r, err := Setup(ctx, Config{Pools: f.Pools, Models: f.Models, Hub: f.Hub, CellTimeout: f.CellTimeout, WorkDir: workDir(t)})
	if err != nil {
		t.Fatalf("matrix: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("matrix: cleaning up: %v", err)
		}
	})
	start := time.Now()
	run := Run{Date: start.UTC(), Pools: f.Pools, Command: r.CommandLine(f.Update), Hives: r.hives(ctx)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// t.Run from one goroutine per pool rather than t.Parallel: -parallel
	// (GOMAXPROCS) must not cap how many pools run at once.
	for _, p := range r.Pools {
		wg.Go(func() {
			t.Run(p.Name, func(t *testing.T) {
				for _, b := range p.Backends {
					t.Run(b, func(t *testing.T) {
						for _, m := range r.Models {
							t.Run(m.ID, func(t *testing.T) {
								c := p.RunCell(ctx, b, m, r.CellTimeout())
								mu.Lock()
								run.Cells = append(run.Cells, c)
								mu.Unlock()
								report(t, c)
							})
						}
					})
				}
			})
		})
	}
	wg.Wait()
	run.WallMs = time.Since(start).Milliseconds()
	if len(run.Cells) == 0 {
		t.Log("matrix: no cell selected by -run; results left as they were")
		return
	}
	r.Sort(&run)
	dir := filepath.Join(root, "results")
	if err := WriteResults(dir, run); err != nil {
		t.Errorf("matrix: writing results: %v", err)
	}
	t.Logf("matrix: %d cells in %.1f s; table: %s", len(run.Cells), float64(run.WallMs)/1000, filepath.Join(dir, ResultsMarkdown))
	if f.Update {
		if err := UpdateTracked(filepath.Join(root, "MODEL_SUPPORT.md"), run); err != nil {
			t.Errorf("matrix: %v", err)
		}
	}
}

// report turns a cell into the subtest's outcome.
func report(t *testing.T, c Cell) {
	t.Helper()
	switch c.Status {
	case Pass:
		t.Logf("✅ %s: %s, load %d ms, first token %d ms, %.1f tokens/s, %d tokens, wall %d ms, overhead %d ms: %q",
			c.Model, humanBytes(c.ModelBytes), c.SpawnReadyMs, c.FirstTokenMs, c.DecodeTokS, c.Tokens, c.WallMs, c.OverheadMs, c.Text)
	case Skip:
		t.Skip(fmt.Sprintf("⏭ %s", c.Reason))
	default:
		t.Errorf("❌ %s on %s: %s", c.Model, c.Column(), c.Reason)
	}
}

// workDir is the run's scratch directory. Unlike t.TempDir, a removal that
// races a process still exiting (an sshd child, a worker's last log line)
// is retried and then only logged: it is not a matrix failure.
func workDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "rbee-matrix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 5 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("matrix: could not remove %s: %v", dir, err)
	})
	return dir
}
