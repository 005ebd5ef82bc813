package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/workers"
	"github.com/rbee-go/rbee/keeper/matrix"
)

// workerOf is the worker record of model in the pool's home, or nil.
func (f *faultRun) workerOf(model string) *workers.Record {
	ents, _ := os.ReadDir(filepath.Join(f.home, "workers"))
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		var rec workers.Record
		b, err := os.ReadFile(filepath.Join(f.home, "workers", e.Name()))
		if err == nil && json.Unmarshal(b, &rec) == nil && rec.ModelID == model {
			return &rec
		}
	}
	return nil
}

func (f *faultRun) cell(model string) (matrix.Cell, error) {
	for _, c := range f.run.Cells {
		if c.Model == model {
			return c, nil
		}
	}
	return matrix.Cell{}, fmt.Errorf("no cell for %s in %d cells", model, len(f.run.Cells))
}

func (f *faultRun) passedAfterRedial(model string) error {
	c, err := f.cell(model)
	if err != nil {
		return err
	}
	if c.Status != matrix.Pass || !c.Retried || c.Redials < 1 {
		return fmt.Errorf("cell %s: status %s, retried %v, redials %d: %s", model, c.Status, c.Retried, c.Redials, c.Reason)
	}
	fmt.Fprintf(os.Stderr, "faults: %s: %d redial(s); network back to the retry starting: %d ms (redial to retry: %d ms)\n",
		model, c.Redials, c.RetriedAt.Sub(f.restoredAt).Milliseconds(), c.ReturnToCellMs)
	if !strings.Contains(matrix.Render(f.run, nil), "retried after ") {
		return fmt.Errorf("the table does not say the cell needed a redial")
	}
	return nil
}

func (f *faultRun) failedWith(model, want string) error {
	c, err := f.cell(model)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "faults: %s: %s: %s\n", model, c.Status, c.Reason)
	if c.Status != matrix.Fail || !strings.Contains(c.Reason, want) {
		return fmt.Errorf("cell %s: status %s, reason %q; want a failure with %q", model, c.Status, c.Reason, want)
	}
	return nil
}

func (f *faultRun) noWorkerLeft(ctx context.Context) error {
	ents, _ := os.ReadDir(filepath.Join(f.home, "workers"))
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") {
			return fmt.Errorf("worker record %s left on the pool", e.Name())
		}
	}
	var list []json.RawMessage
	k, host := f.runner.Pools[0].Keeper()
	if err := k.RunJSON(ctx, host, []string{"worker", "list"}, &list); err != nil {
		return err
	}
	if len(list) > 0 {
		return fmt.Errorf("the pool lists %d workers: %s", len(list), list)
	}
	if err := f.killProcesses(func(cmdline []string) bool {
		return len(cmdline) > 0 && strings.Contains(cmdline[0], "llm-worker-rbee")
	}); err == nil {
		return fmt.Errorf("a worker process of the pool was still running (killed now)")
	}
	return nil
}

// noFalseDownload: every model the catalog marks downloaded has all its
// files, with the recorded size and sha256.
func (f *faultRun) noFalseDownload(ctx context.Context) error {
	c, err := catalog.ForHome(f.home).Load(ctx)
	if err != nil {
		return err
	}
	for _, m := range c.Models {
		if !m.Downloaded {
			continue
		}
		if ch := m.Changed(); len(ch) > 0 {
			return fmt.Errorf("%s is marked downloaded but: %s", m.ID, strings.Join(ch, ", "))
		}
		for _, file := range m.Metadata.Files {
			sum, err := sha256File(filepath.Join(m.Path, file.Name))
			if err != nil {
				return err
			}
			if sum != file.SHA256 {
				return fmt.Errorf("%s/%s: sha256 %s, catalog says %s", m.ID, file.Name, sum, file.SHA256)
			}
		}
	}
	return nil
}

func sha256File(p string) (string, error) {
	fh, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// resume closes the first run, frees the disk, notes the bytes already on
// the pool, and runs again with -resume.
func (f *faultRun) resume(ctx context.Context) error {
	if f.runner == nil {
		return fmt.Errorf("the fault matrix has not run")
	}
	_ = f.runner.Close() // its cut pool may report leftovers it could not reach
	if err := os.Remove(f.filler); err != nil && !os.IsNotExist(err) {
		return err
	}
	f.present = map[string]int64{}
	root := filepath.Join(f.home, "models")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, string(filepath.Separator)+".cache"+string(filepath.Separator)) {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		st, err := d.Info()
		if err != nil {
			return err
		}
		f.present[strings.TrimSuffix(rel, ".incomplete")] += st.Size()
		return nil
	})
	if err != nil {
		return err
	}
	return f.runMatrix(ctx, true)
}

func (f *faultRun) allPass() error {
	var bad []string
	for _, c := range f.run.Cells {
		if c.Status != matrix.Pass {
			bad = append(bad, fmt.Sprintf("%s: %s %s", c.Model, c.Status, c.Reason))
		}
	}
	if len(f.run.Cells) == 0 || len(bad) > 0 {
		return fmt.Errorf("%d cells, not passed: %s", len(f.run.Cells), strings.Join(bad, "; "))
	}
	return nil
}

// rerunExactly: the resumed run re-ran the cells that had not passed and
// reused (with their date) those that had.
func (f *faultRun) rerunExactly() error {
	var notPassed, rerun []string
	for _, c := range f.first.Cells {
		if c.Status != matrix.Pass {
			notPassed = append(notPassed, c.Model)
		}
	}
	for _, c := range f.run.Cells {
		if c.ReusedFrom == nil {
			rerun = append(rerun, c.Model)
		} else if !c.ReusedFrom.Equal(f.first.Date) {
			return fmt.Errorf("cell %s reused from %s, want the first run's date %s", c.Model, c.ReusedFrom, f.first.Date)
		}
	}
	if strings.Join(rerun, ",") != strings.Join(notPassed, ",") {
		return fmt.Errorf("-resume re-ran [%s]; the cells that had not passed were [%s]", strings.Join(rerun, ","), strings.Join(notPassed, ","))
	}
	fmt.Fprintf(os.Stderr, "faults: -resume re-ran %d cells; %d had not passed\n", len(rerun), len(notPassed))
	return nil
}

// fetchedOnlyMissing: the mirror served the resumed run no more than the
// bytes the pool was missing (×1.01), and at least those.
func (f *faultRun) fetchedOnlyMissing(ctx context.Context) error {
	c, err := catalog.ForHome(f.home).Load(ctx)
	if err != nil {
		return err
	}
	var missing int64
	for _, m := range c.Models {
		for _, file := range m.Metadata.Files {
			missing += file.Size - min(file.Size, f.present[m.ID+"/"+file.Name])
		}
	}
	fetched := f.runner.Embedded.BytesServed("")
	fmt.Fprintf(os.Stderr, "faults: the resumed run fetched %d bytes; %d were missing (%.4f×)\n", fetched, missing, float64(fetched)/float64(max(missing, 1)))
	if fetched < missing || float64(fetched) > 1.01*float64(missing) {
		return fmt.Errorf("the resumed run fetched %d bytes; %d were missing (want within 1.01×)", fetched, missing)
	}
	return nil
}
