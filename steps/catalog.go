package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/cucumber/godog"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/catalog/catalogschema"
)

// registerCatalogSteps: the model catalog as files on disk and as the CLIs show it.
func registerCatalogSteps(sc *godog.ScenarioContext, w *World) {
	sc.Step(`^I register the models:$`, w.registerModels)
	sc.Step(`^the catalog lists exactly "(.*)"$`, w.catalogListsExactly)
	sc.Step(`^the catalog entry "([^"]*)" has repo "([^"]*)" and architecture "([^"]*)"$`, w.entryHas)
	sc.Step(`^the catalog entry "([^"]*)" has backends "([^"]*)" and is not downloaded$`, w.entryBackends)
	sc.Step(`^the catalog file does not exist$`, w.catalogFileAbsent)
	sc.Step(`^the catalog file is valid against the published schema$`, w.catalogFileValid)
	sc.Step(`^the catalog backup lists exactly "(.*)"$`, w.backupListsExactly)
	sc.Step(`^the catalog file holds garbage$`, w.catalogGarbage)
	sc.Step(`^I keep a copy of the catalog file$`, w.keepCatalog)
	sc.Step(`^the catalog file is unchanged$`, w.catalogUnchanged)
	sc.Step(`^the model "([^"]*)" has files on disk$`, w.modelFiles)
	sc.Step(`^the model "([^"]*)" has no files on disk$`, w.modelNoFiles)
	sc.Step(`^nothing was created outside the home$`, w.nothingOutsideHome)
	sc.Step(`^the rbee home is read-only$`, w.readOnlyHome)
	sc.Step(`^the rbee home is below a regular file$`, w.homeBelowFile)
	sc.Step(`^(\d+) rbee-hive processes register one model each at the same time$`, w.parallelRegister)
	sc.Step(`^the catalog holds the (\d+) models "([^"]*)" to "([^"]*)"$`, w.catalogHoldsRange)
	sc.Step(`^the keeper's catalog of "([^"]*)" is identical to the local catalog$`, w.keeperCatalogIdentical)
}

func (w *World) store() catalog.Store { return catalog.ForHome(w.Home) }

// registerModels runs `rbee-hive models register` for each table row
// (columns id, name, repo, architecture and optionally backends).
func (w *World) registerModels(ctx context.Context, table *godog.Table) error {
	if len(table.Rows) < 2 {
		return errors.New("the table needs a header row and at least one model")
	}
	var head []string
	for _, c := range table.Rows[0].Cells {
		head = append(head, c.Value)
	}
	for _, row := range table.Rows[1:] {
		args := []string{"rbee-hive", "models", "register"}
		for i, c := range row.Cells {
			if head[i] == "id" {
				args = append(args, c.Value)
			} else {
				args = append(args, "--"+head[i], c.Value)
			}
		}
		if err := w.Run(ctx, shellJoin(args)); err != nil {
			return err
		}
		if err := w.commandSucceeds(); err != nil {
			return err
		}
	}
	return nil
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// loadViaCLI reads the catalog as an operator would: `rbee-hive models catalog --json`.
func (w *World) loadViaCLI(ctx context.Context) (*catalog.Catalog, error) {
	if err := w.Run(ctx, "rbee-hive models catalog --json"); err != nil {
		return nil, err
	}
	if err := w.commandSucceeds(); err != nil {
		return nil, err
	}
	c, err := catalog.Parse([]byte(w.Stdout))
	if err != nil {
		return nil, fmt.Errorf("catalog --json: %w\n%s", err, w.Last())
	}
	return c, nil
}

func ids(c *catalog.Catalog) []string {
	out := make([]string, len(c.Models))
	for i, m := range c.Models {
		out[i] = m.ID
	}
	slices.Sort(out)
	return out
}

func (w *World) catalogListsExactly(ctx context.Context, list string) error {
	want := splitList(list)
	slices.Sort(want)
	c, err := w.loadViaCLI(ctx)
	if err != nil {
		return err
	}
	if got := ids(c); !slices.Equal(got, want) {
		return fmt.Errorf("catalog lists %v, want %v", got, want)
	}
	if _, err := os.Stat(w.store().Path()); err == nil {
		return w.catalogFileValid()
	}
	return nil
}

func (w *World) entry(ctx context.Context, id string) (catalog.Model, error) {
	c, err := w.loadViaCLI(ctx)
	if err != nil {
		return catalog.Model{}, err
	}
	m := c.Find(id)
	if m == nil {
		return catalog.Model{}, fmt.Errorf("catalog has no %q: %v", id, ids(c))
	}
	return *m, nil
}

func (w *World) entryHas(ctx context.Context, id, repo, arch string) error {
	m, err := w.entry(ctx, id)
	if err != nil {
		return err
	}
	if m.Metadata.Repo != repo || m.Architecture != arch {
		return fmt.Errorf("%s: repo %q architecture %q, want %q %q", id, m.Metadata.Repo, m.Architecture, repo, arch)
	}
	if want := filepath.Join(w.Home, "models", id); m.Path != want {
		return fmt.Errorf("%s: path %q, want %q", id, m.Path, want)
	}
	return nil
}

func (w *World) entryBackends(ctx context.Context, id, backends string) error {
	m, err := w.entry(ctx, id)
	if err != nil {
		return err
	}
	var got []string
	for _, b := range m.Backends {
		got = append(got, string(b))
	}
	if !slices.Equal(got, splitList(backends)) || m.Downloaded {
		return fmt.Errorf("%s: backends %v downloaded %v, want %s and not downloaded", id, got, m.Downloaded, backends)
	}
	return nil
}

func (w *World) catalogFileAbsent() error {
	if _, err := os.Stat(w.store().Path()); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("catalog file %s exists (or cannot be checked: %v)", w.store().Path(), err)
	}
	return nil
}

// catalogFileValid validates the file the hive wrote against catalog.schema.json.
func (w *World) catalogFileValid() error {
	raw, err := os.ReadFile(w.store().Path())
	if err != nil {
		return err
	}
	if err := catalogschema.ValidateDocument(raw); err != nil {
		return fmt.Errorf("%s: %w", w.store().Path(), err)
	}
	return nil
}

func (w *World) backupListsExactly(list string) error {
	raw, err := os.ReadFile(w.store().BackupPath())
	if err != nil {
		return err
	}
	if err := catalogschema.ValidateDocument(raw); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	c, err := catalog.Parse(raw)
	if err != nil {
		return err
	}
	want := splitList(list)
	slices.Sort(want)
	if got := ids(c); !slices.Equal(got, want) {
		return fmt.Errorf("backup lists %v, want %v", got, want)
	}
	return nil
}

func (w *World) catalogGarbage() error {
	if err := os.MkdirAll(w.store().Dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(w.store().Path(), []byte("{\"version\": \"1.0\", \"models\": [ this is not JSON\n\x00\xff garbage"), 0o644)
}

func (w *World) keepCatalog() error {
	raw, err := os.ReadFile(w.store().Path())
	if err != nil {
		return err
	}
	w.Saved["catalog"] = raw
	return nil
}

func (w *World) catalogUnchanged() error {
	raw, err := os.ReadFile(w.store().Path())
	if err != nil {
		return err
	}
	if !bytes.Equal(raw, w.Saved["catalog"]) {
		return fmt.Errorf("catalog file changed:\nbefore: %q\nafter:  %q", w.Saved["catalog"], raw)
	}
	return nil
}

func (w *World) modelFiles(id string) error {
	dir := filepath.Join(w.Home, "models", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("weights"), 0o644)
}

func (w *World) modelNoFiles(id string) error {
	if _, err := os.Stat(filepath.Join(w.Home, "models", id)); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("models/%s still exists (%v)", id, err)
	}
	return nil
}

// nothingOutsideHome: bad ids such as ../x must not create anything next to the home.
func (w *World) nothingOutsideHome() error {
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); n != "home" && n != "user" {
			return fmt.Errorf("unexpected %s in the scenario directory", n)
		}
	}
	return nil
}

// readOnlyHome makes the home really refuse writes. Permission bits do not
// stop root, so when the tests run as root the hive runs as the unprivileged
// user nobody, for whom the 0555 home is read-only like for any operator.
func (w *World) readOnlyHome() error {
	if err := os.MkdirAll(w.store().Dir, 0o755); err != nil {
		return err
	}
	err := filepath.WalkDir(w.Home, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o444)
		if d.IsDir() {
			mode = 0o555
		}
		return os.Chmod(p, mode)
	})
	if err != nil {
		return err
	}
	w.Cleanup(func() {
		_ = filepath.WalkDir(w.Home, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	if os.Geteuid() == 0 {
		w.Cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	// Prove the premise: a shell running as the same user cannot write there.
	probe := w.Command(context.Background(), "/bin/sh", "-c", `: > "$RBEE_HOME/models/.probe"`)
	err = probe.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return fmt.Errorf("the home %s is still writable for the hive's user", w.Home)
	case !errors.As(err, &exitErr):
		return fmt.Errorf("cannot run a process as the hive's user (uid %v): %w", w.Cred, err)
	}
	return nil
}

// homeBelowFile points RBEE_HOME below a regular file: no one can create it.
func (w *World) homeBelowFile() error {
	file := filepath.Join(w.Dir, "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		return err
	}
	w.Home = filepath.Join(file, "home")
	return nil
}

// parallelRegister starts n `rbee-hive models register` processes at once,
// ids par-01 … par-NN, and requires every one to succeed.
func (w *World) parallelRegister(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("par-%02d", i+1)
			cmd := w.Command(ctx, "rbee-hive", "models", "register", id, "--name", "Parallel "+id,
				"--repo", "rbee-testing/"+id, "--architecture", "llama", "--backends", "cpu")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			<-start
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("%s: %w: %s", id, err, out.String())
			}
		}()
	}
	close(start)
	wg.Wait()
	return errors.Join(errs...)
}

func (w *World) catalogHoldsRange(ctx context.Context, n int, first, last string) error {
	c, err := w.loadViaCLI(ctx)
	if err != nil {
		return err
	}
	if len(c.Models) != n {
		return fmt.Errorf("catalog holds %d models, want %d: %v", len(c.Models), n, ids(c))
	}
	got := ids(c)
	if got[0] != first || got[n-1] != last {
		return fmt.Errorf("catalog ids run %s…%s, want %s…%s", got[0], got[n-1], first, last)
	}
	return w.catalogFileValid()
}

// keeperCatalogIdentical compares the keeper's --json output for host with
// the local hive's, byte for byte and as decoded catalogs.
func (w *World) keeperCatalogIdentical(ctx context.Context, host string) error {
	if err := w.Run(ctx, "rbee-hive models catalog --json"); err != nil {
		return err
	}
	if err := w.commandSucceeds(); err != nil {
		return err
	}
	local := w.Stdout
	if err := w.Run(ctx, "rbee-keeper pool models catalog --json --host "+host); err != nil {
		return err
	}
	if err := w.commandSucceeds(); err != nil {
		return err
	}
	if w.Stdout != local {
		return fmt.Errorf("keeper output differs from the local catalog\nlocal:\n%s\nkeeper:\n%s", local, w.Stdout)
	}
	lc, err := catalog.Parse([]byte(local))
	if err != nil {
		return err
	}
	if len(lc.Models) == 0 {
		return errors.New("the local catalog is empty: nothing was compared")
	}
	return nil
}
