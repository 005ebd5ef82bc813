package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gofrs/flock"

	"github.com/rbee-go/rbee/internal/durable"
)

// File names inside the models directory.
const (
	FileName   = "catalog.json"
	BackupName = "catalog.json.bak"
	LockName   = "catalog.json.lock"
)

// lockRetry is how often a waiting writer retries the exclusive lock.
const lockRetry = 5 * time.Millisecond

// Store is the catalog of one home: Dir is the models directory
// (<home>/models) holding catalog.json and one sub-directory per model.
type Store struct {
	Dir    string
	PoolID string // pool_id for a new catalog; empty = this host's name
}

// ForHome returns the store of an rbee home directory.
func ForHome(home string) Store { return Store{Dir: filepath.Join(home, "models")} }

// Path is the catalog file.
func (s Store) Path() string { return filepath.Join(s.Dir, FileName) }

// BackupPath is the previous version of the catalog file.
func (s Store) BackupPath() string { return filepath.Join(s.Dir, BackupName) }

// ModelDir is where a model's files live (the catalog's "path").
func (s Store) ModelDir(id string) string {
	dir, err := filepath.Abs(filepath.Join(s.Dir, id))
	if err != nil {
		return filepath.Join(s.Dir, id)
	}
	return dir
}

func (s Store) poolID() string {
	if s.PoolID != "" {
		return s.PoolID
	}
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// Load reads the catalog; a missing file is an empty catalog (nothing is
// written). Writers replace the file by rename, so no lock is needed to read.
func (s Store) Load(ctx context.Context) (*Catalog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, _, err := s.read()
	return c, err
}

// Get returns the entry with this id, or a MODEL_NOT_FOUND error.
func (s Store) Get(ctx context.Context, id string) (Model, error) {
	c, err := s.Load(ctx)
	if err != nil {
		return Model{}, err
	}
	if m := c.Find(id); m != nil {
		return *m, nil
	}
	return Model{}, NotFound(id)
}

// read returns the parsed catalog and the raw bytes (nil when absent).
func (s Store) read() (*Catalog, []byte, error) {
	raw, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return New(s.poolID()), nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read catalog %s: %w", s.Path(), err)
	}
	c, err := Parse(raw)
	if err != nil {
		return nil, nil, &Error{Code: CodeCorrupt, Err: err,
			Msg:  fmt.Sprintf("catalog %s is not valid: %v", s.Path(), err),
			Hint: fmt.Sprintf("fix or remove the file (the previous version may be in %s); it was left untouched", s.BackupPath())}
	}
	return c, raw, nil
}

// Parse decodes a catalog document, describing where a syntax error is.
func Parse(raw []byte) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&c); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(raw, se.Offset)
			return nil, fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, err)
		}
		return nil, fmt.Errorf("invalid catalog document: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: unexpected data after the catalog object")
	}
	if c.Version == "" {
		return nil, errors.New(`missing "version"`)
	}
	if c.Models == nil {
		c.Models = []Model{}
	}
	return &c, nil
}

func position(raw []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(raw)); i++ {
		if raw[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// Update runs fn on the current catalog under the exclusive lock and, when fn
// succeeds, writes the result atomically, keeping the previous file as
// catalog.json.bak. A catalog that does not parse is never overwritten.
func (s Store) Update(ctx context.Context, fn func(*Catalog) error) (*Catalog, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, notWritable(s.Dir, err)
	}
	lock := flock.New(filepath.Join(s.Dir, LockName))
	ok, err := lock.TryLockContext(ctx, lockRetry)
	if err != nil || !ok {
		if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, &Error{Code: CodeLocked, Err: err, Msg: fmt.Sprintf("catalog %s is locked by another process", s.Path())}
		}
		return nil, notWritable(s.Dir, err)
	}
	defer func() { _ = lock.Unlock() }()

	c, old, err := s.read()
	if err != nil {
		return nil, err
	}
	if err := fn(c); err != nil {
		return nil, err
	}
	c.Version = Version
	if c.PoolID == "" {
		c.PoolID = s.poolID()
	}
	c.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode catalog: %w", err)
	}
	data = append(data, '\n')
	if old != nil {
		if err := writeAtomic(s.BackupPath(), old); err != nil {
			return nil, notWritable(s.Dir, err)
		}
	}
	if err := writeAtomic(s.Path(), data); err != nil {
		return nil, notWritable(s.Dir, err)
	}
	return c, nil
}

// writeAtomic replaces path with data: temp file in the same directory,
// fsync, rename, fsync the directory so the rename itself is durable.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return durable.SyncDir(dir)
}

// notWritable turns a filesystem refusal into CATALOG_NOT_WRITABLE.
func notWritable(dir string, err error) error {
	why := "cannot write"
	switch {
	case errors.Is(err, syscall.EROFS):
		why = "read-only file system"
	case errors.Is(err, fs.ErrPermission):
		why = "permission denied"
	case errors.Is(err, syscall.ENOTDIR):
		why = "a path component is not a directory"
	case errors.Is(err, syscall.ENOSPC):
		why = "no space left on device"
	}
	return &Error{Code: CodeNotWritable, Err: err,
		Msg:  fmt.Sprintf("cannot write the catalog in %s: %s", dir, why),
		Hint: "use a writable home (--home DIR or RBEE_HOME); nothing was changed"}
}
