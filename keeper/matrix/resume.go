package matrix

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/hfhub"
)

// LoadRun reads a run's results/matrix.json (the -resume input).
func LoadRun(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-resume: %w (run the matrix once without -resume first)", err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("-resume: %s is not a matrix result: %w", path, err)
	}
	return &r, nil
}

// resumer decides which passed cells of a previous run stand: same pool,
// backend and model repo, and the repo's commit, the pool's hive version and
// its worker version for the backend all as they are now (and known).
type resumer struct {
	prev    *Run
	passed  map[string]Cell // pool|backend|model
	hub     string
	mu      sync.Mutex
	status  map[*Pool]*hive.Status // nil entry: asked, failed
	commits map[string]string      // repo -> commit of main now ("" = unknown)
}

func newResumer(prev *Run, hub string) *resumer {
	if prev == nil {
		return nil
	}
	r := &resumer{prev: prev, passed: map[string]Cell{}, hub: hub,
		status: map[*Pool]*hive.Status{}, commits: map[string]string{}}
	for _, c := range prev.Cells {
		if c.Status == Pass {
			r.passed[c.Pool+"|"+c.Backend+"|"+c.Model] = c
		}
	}
	return r
}

// reuse returns the previous cell, marked with the date it was measured,
// when it can stand for this one.
func (r *resumer) reuse(ctx context.Context, p *Pool, backend string, m Model) (Cell, bool) {
	if r == nil {
		return Cell{}, false
	}
	c, ok := r.passed[p.Name+"|"+backend+"|"+m.ID]
	if !ok || c.Repo != m.Repo || c.Commit == "" || c.HiveVersion == "" || c.WorkerVersion == "" {
		return Cell{}, false
	}
	st := r.poolStatus(ctx, p)
	if st == nil || st.Version != c.HiveVersion || st.WorkerVersions[backend] != c.WorkerVersion {
		return Cell{}, false
	}
	if r.commit(ctx, m.Repo) != c.Commit {
		return Cell{}, false
	}
	if c.ReusedFrom == nil {
		d := r.prev.Date
		c.ReusedFrom = &d
	}
	return c, true
}

func (r *resumer) poolStatus(ctx context.Context, p *Pool) *hive.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.status[p]; ok {
		return st
	}
	k, host := p.Keeper()
	st, err := k.Status(ctx, host)
	if err != nil {
		r.status[p] = nil
		return nil
	}
	r.status[p] = &st
	return &st
}

func (r *resumer) commit(ctx context.Context, repo string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.commits[repo]; ok {
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, HubCheckTimeout)
	defer cancel()
	cfg := hfhub.ConfigFromEnv(os.Getenv) // HF_TOKEN for gated repos
	cfg.Endpoint = r.hub
	c, err := hfhub.New(cfg).Commit(ctx, repo, "main")
	if err != nil {
		c = ""
	}
	r.commits[repo] = c
	return c
}
