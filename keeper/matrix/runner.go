package matrix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/sshpool"
)

// Config is one matrix run (the -pools, -models, -hub, -cell-timeout flags).
type Config struct {
	Pools       []string // DEST:BACKEND entries
	Models      string   // "tiny", "seed" or a comma list of ids
	Hub         string   // HF endpoint; "" = embedded mirror for tiny, RealHub otherwise
	CellTimeout time.Duration
	WorkDir     string        // the run's scratch directory (pool dirs, the mirror); must exist
	Bins        *harness.Bins // built binaries; nil = built on first need
	Log         *slog.Logger  // progress; nil = silent
	TestBed     TestBed       // for the pools the run starts itself
}

// DefaultCellTimeout is used when Config.CellTimeout is 0.
const DefaultCellTimeout = 10 * time.Minute

// Runner is a set-up matrix: hub checked, pools connected. Close it.
type Runner struct {
	cfg    Config
	Models []Model
	Pools  []*Pool
	HubURL string
	// Embedded is the in-process mirror serving the tiny models (nil when
	// the run uses an external hub).
	Embedded *hubmirror.Server
}

// Setup validates the flags, checks the hub is reachable, starts the
// embedded mirror and harness pools it needs, and connects every pool.
// It fails fast with one clear error.
func Setup(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.CellTimeout <= 0 {
		cfg.CellTimeout = DefaultCellTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("matrix: Config.WorkDir is required")
	}
	specs, err := ParsePools(cfg.Pools)
	if err != nil {
		return nil, err
	}
	models, err := ResolveModels(cfg.Models)
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, Models: models}
	tiny, nReal := countEmbedded(models)
	switch {
	case cfg.Hub != "":
		r.HubURL = strings.TrimRight(cfg.Hub, "/")
	case nReal == 0:
		cfg.Log.Info("matrix: writing the tiny and stories models for the embedded hub mirror")
		if r.Embedded, err = embeddedHub(cfg.WorkDir); err != nil {
			return nil, err
		}
		r.HubURL = r.Embedded.URL
	case tiny == 0:
		r.HubURL = RealHub
	default:
		return nil, errors.New("-models mixes tiny (or stories) and real models: pass -hub=URL of one mirror serving both (the embedded mirror serves the tiny and stories models only when no other model is asked for)")
	}
	if err := CheckHub(ctx, r.HubURL, models[0].Repo); err != nil {
		r.Close()
		return nil, err
	}
	var key struct {
		once sync.Once
		k    *sshpool.Key
		err  error
	}
	env := poolEnv{
		workDir: cfg.WorkDir, hub: r.HubURL, passHub: cfg.Hub != "" || nReal == 0, tiny: nReal == 0, testbed: cfg.TestBed,
		bins: func() (*harness.Bins, error) {
			if cfg.Bins != nil {
				return cfg.Bins, nil
			}
			return harness.Build()
		},
		key: func() (*sshpool.Key, error) {
			key.once.Do(func() {
				key.k, key.err = sshpool.NewKey(filepath.Join(cfg.WorkDir, "client", "id_ed25519"), "rbee-matrix")
			})
			return key.k, key.err
		},
	}
	// pools start in parallel: each harness pool is an sshd to wait for
	pools := make([]*Pool, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() { pools[i], errs[i] = openPool(ctx, s, env) })
	}
	wg.Wait()
	for i, p := range pools {
		if p != nil {
			r.Pools = append(r.Pools, p)
		}
		if errs[i] != nil {
			r.Close()
			return nil, fmt.Errorf("pool %s: %w", specs[i].Dest, errs[i])
		}
	}
	return r, nil
}

// countEmbedded counts the models the embedded mirror serves (tiny and CI
// models) and the others.
func countEmbedded(ms []Model) (embedded, nReal int) {
	for _, m := range ms {
		if m.Tiny || m.CI {
			embedded++
		} else {
			nReal++
		}
	}
	return embedded, nReal
}

// CellTimeout is the per-cell deadline of the run.
func (r *Runner) CellTimeout() time.Duration { return r.cfg.CellTimeout }

// Close stops every worker the run may have left on its private homes, the
// harness pools and the embedded mirror.
func (r *Runner) Close() error {
	var errs []error
	for _, p := range r.Pools {
		if err := p.stopLeftovers(); err != nil {
			errs = append(errs, err)
		}
		if err := p.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Embedded != nil {
		_ = r.Embedded.Close()
	}
	return errors.Join(errs...)
}

// Run runs the whole matrix: pools in parallel, each pool's cells one at a
// time. onCell (may be nil) sees every cell as it finishes.
func (r *Runner) Run(ctx context.Context, onCell func(Cell)) Run {
	start := time.Now()
	run := Run{Date: start.UTC(), Pools: r.cfg.Pools, Hives: r.hives(ctx)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range r.Pools {
		wg.Go(func() {
			for _, b := range p.Backends {
				for _, m := range r.Models {
					c := p.RunCell(ctx, b, m, r.cfg.CellTimeout)
					r.cfg.Log.Info("matrix cell", "pool", c.Pool, "backend", c.Backend, "model", c.Model, "status", c.Status, "reason", c.Reason)
					mu.Lock()
					run.Cells = append(run.Cells, c)
					mu.Unlock()
					if onCell != nil {
						onCell(c)
					}
				}
			}
		})
	}
	wg.Wait()
	run.WallMs = time.Since(start).Milliseconds()
	r.Sort(&run)
	return run
}

// hives asks every pool's rbee-hive for its version and backends, so a
// run's results say what they were measured with.
func (r *Runner) hives(ctx context.Context) []Hive {
	out := make([]Hive, len(r.Pools))
	var wg sync.WaitGroup
	for i, p := range r.Pools {
		wg.Go(func() {
			k, host := p.Keeper()
			out[i] = Hive{Pool: p.Name}
			st, err := k.Status(ctx, host)
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].Version, out[i].Backends = st.Version, st.Backends
		})
	}
	wg.Wait()
	return out
}

// Sort orders a run's cells as the flags listed pools, backends and models
// (cells finish in any order when pools run in parallel).
func (r *Runner) Sort(run *Run) {
	rank := map[string]int{}
	n := 0
	for _, p := range r.Pools {
		for _, b := range p.Backends {
			for _, m := range r.Models {
				rank[p.Name+"/"+b+"/"+m.ID] = n
				n++
			}
		}
	}
	cells := run.Cells
	for i := 1; i < len(cells); i++ {
		for j := i; j > 0 && rank[cells[j].Column()+"/"+cells[j].Model] < rank[cells[j-1].Column()+"/"+cells[j-1].Model]; j-- {
			cells[j], cells[j-1] = cells[j-1], cells[j]
		}
	}
}

// CommandLine is the go test line that reproduces the run.
func (r *Runner) CommandLine(update bool) string {
	parts := []string{"go test . -run TestMatrix", "-pools=" + strings.Join(r.cfg.Pools, ",")}
	if r.cfg.Models != SetTiny {
		parts = append(parts, "-models="+r.cfg.Models)
	}
	if r.cfg.Hub != "" {
		parts = append(parts, "-hub="+r.cfg.Hub)
	}
	if update {
		parts = append(parts, "-update")
	}
	return strings.Join(parts, " ")
}

// stopLeftovers stops every worker still recorded in a home that belongs
// to this run (a safety net behind each cell's own stop).
func (p *Pool) stopLeftovers() error {
	if !p.tempHome || p.k == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	var list []struct {
		ID string `json:"id"`
	}
	if err := p.k.RunJSON(ctx, p.host, []string{"worker", "list"}, &list); err != nil {
		return fmt.Errorf("pool %s: listing leftover workers: %w", p.Name, err)
	}
	var errs []error
	for _, w := range list {
		var out map[string]any
		if err := p.k.RunJSON(ctx, p.host, []string{"worker", "stop", w.ID}, &out); err != nil {
			errs = append(errs, fmt.Errorf("pool %s: stopping leftover %s: %w", p.Name, w.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Results names the files a run writes under a results directory.
const (
	ResultsJSON     = "matrix.json"
	ResultsMarkdown = "MODEL_SUPPORT.md"
)

// WriteResults writes dir/matrix.json and dir/MODEL_SUPPORT.md (this run's
// section only).
func WriteResults(dir string, run Run) error {
	if err := run.WriteJSON(filepath.Join(dir, ResultsJSON)); err != nil {
		return err
	}
	if err := writeLogTails(dir, run); err != nil {
		return err
	}
	doc := "# Model support — results of one matrix run\n\n" + Render(run, nil) + "\n"
	return os.WriteFile(filepath.Join(dir, ResultsMarkdown), []byte(doc), 0o644)
}

// UpdateTracked rewrites the marked section of the tracked MODEL_SUPPORT.md
// at path; the sub-section (real or tiny) the run did not cover is kept.
func UpdateTracked(path string, run Run) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("-update: %w", err)
	}
	out, err := UpdateDocument(doc, run)
	if err != nil {
		return fmt.Errorf("-update: %s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
