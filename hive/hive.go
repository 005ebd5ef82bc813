// Package hive is the pool-local side of rbee: the home directory layout,
// pool status, and the model catalog operations behind `rbee-hive`.
package hive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/hostinfo"
)

// Version is the version of rbee-hive and rbee-keeper.
const Version = "0.1.0"

// EnvHome names the environment variable holding the home directory.
const EnvHome = "RBEE_HOME"

// Hive is one pool's home directory and the operations on it.
type Hive struct {
	Home   string
	Prober hostinfo.Prober // host probes; the zero value probes this machine
}

// DefaultHome is $RBEE_HOME, else ~/.rbee.
func DefaultHome(getenv func(string) string) string {
	if h := getenv(EnvHome); h != "" {
		return h
	}
	if u, err := os.UserHomeDir(); err == nil {
		return filepath.Join(u, ".rbee")
	}
	return ".rbee"
}

// ExpandHome makes a home path absolute, expanding a leading "~/" to the
// user's home directory: a pools file's home = "~/.rbee" reaches the hive
// quoted (over SSH too), so no shell expands it on the way.
func ExpandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if u, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(u, strings.TrimPrefix(p, "~"))
		}
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// Catalog is the model catalog store of this home.
func (h Hive) Catalog() catalog.Store { return catalog.ForHome(h.Home) }

// ModelsDir is <home>/models.
func (h Hive) ModelsDir() string { return filepath.Join(h.Home, "models") }

// WorkersDir is <home>/workers, holding one <worker-id>.json record per worker.
func (h Hive) WorkersDir() string { return filepath.Join(h.Home, "workers") }

// RegisterRequest is `rbee-hive models register`.
type RegisterRequest struct {
	ID           string
	Name         string
	Repo         string
	Architecture string
	Backends     []catalog.Backend // empty = cpu, metal, cuda
	Revision     string            // empty = main
	Include      []string          // download globs; empty = the default set
}

// Register adds a model to the catalog (not downloaded yet).
func (h Hive) Register(ctx context.Context, req RegisterRequest) (catalog.Model, error) {
	if err := catalog.ValidateID(req.ID); err != nil {
		return catalog.Model{}, err
	}
	backends := req.Backends
	if len(backends) == 0 {
		backends = catalog.AllBackends()
	}
	rev := req.Revision
	if rev == "" {
		rev = "main"
	}
	store := h.Catalog()
	m := catalog.Model{
		ID: req.ID, Name: strings.TrimSpace(req.Name), Path: store.ModelDir(req.ID),
		Format: formatOf(req.Include), Architecture: strings.TrimSpace(req.Architecture), Backends: backends,
		Metadata: catalog.Metadata{Repo: req.Repo, Revision: rev, Include: req.Include},
	}
	if err := m.Validate(); err != nil {
		return catalog.Model{}, err
	}
	_, err := store.Update(ctx, func(c *catalog.Catalog) error { return c.Add(m) })
	return m, err
}

// Unregister removes a model from the catalog and, with deleteFiles, its
// directory under models/. The catalog is updated first, so a failure to
// delete files never leaves an entry pointing at half-deleted files.
func (h Hive) Unregister(ctx context.Context, id string, deleteFiles bool) (catalog.Model, error) {
	if err := catalog.ValidateID(id); err != nil {
		return catalog.Model{}, err
	}
	var removed catalog.Model
	_, err := h.Catalog().Update(ctx, func(c *catalog.Catalog) error {
		var err error
		removed, err = c.Remove(id)
		return err
	})
	if err != nil {
		return catalog.Model{}, err
	}
	if deleteFiles {
		// The id passed ValidateID, so this stays inside models/.
		if err := os.RemoveAll(filepath.Join(h.ModelsDir(), id)); err != nil {
			return removed, fmt.Errorf("model %q unregistered, but deleting its files failed: %w", id, err)
		}
	}
	return removed, nil
}

// LoadCatalog reads the catalog (empty when none exists yet).
func (h Hive) LoadCatalog(ctx context.Context) (*catalog.Catalog, error) {
	return h.Catalog().Load(ctx)
}

// ListDownloaded returns the downloaded models, in catalog order.
func (h Hive) ListDownloaded(ctx context.Context) ([]catalog.Model, error) {
	c, err := h.LoadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	out := []catalog.Model{}
	for _, m := range c.Models {
		if m.Downloaded {
			out = append(out, m)
		}
	}
	return out, nil
}

// CountWorkers counts worker records (workers/*.json); a missing directory is zero.
func (h Hive) CountWorkers() (int, error) {
	entries, err := os.ReadDir(h.WorkersDir())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read workers directory: %w", err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			n++
		}
	}
	return n, nil
}
