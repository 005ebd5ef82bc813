package catalog_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/internal/testbed/tmpfs"
)

// fill writes to path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			require.True(t, errors.Is(err, syscall.ENOSPC), "filling the tmpfs: %v", err)
			return
		}
	}
}

// A catalog write on a full disk fails with CATALOG_NOT_WRITABLE and leaves
// the previous catalog (and its backup) as they were, with no temp file.
func TestUpdateOnFullDiskKeepsCatalog(t *testing.T) {
	ctx := context.Background()
	mnt := tmpfs.Mount(t, 256<<10)
	s := catalog.Store{Dir: filepath.Join(mnt, "models"), PoolID: "pool-a"}
	_, err := s.Update(ctx, add(model("a")))
	require.NoError(t, err)
	_, err = s.Update(ctx, add(model("b")))
	require.NoError(t, err)
	before, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	backup, err := os.ReadFile(s.BackupPath())
	require.NoError(t, err)

	fill(t, filepath.Join(mnt, "filler"))
	_, err = s.Update(ctx, add(model("c")))
	require.ErrorIs(t, err, catalog.ErrNotWritable)
	assert.Contains(t, err.Error(), "no space left on device")

	after, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	c, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Len(t, c.Models, 2)
	if b, err := os.ReadFile(s.BackupPath()); assert.NoError(t, err) {
		assert.Contains(t, []string{string(backup), string(before)}, string(b), "the backup is a whole earlier catalog")
	}
	ents, err := os.ReadDir(s.Dir)
	require.NoError(t, err)
	for _, e := range ents {
		assert.NotContains(t, e.Name(), ".tmp-", "temp file left behind")
	}

	require.NoError(t, os.Remove(filepath.Join(mnt, "filler")))
	_, err = s.Update(ctx, add(model("c")))
	require.NoError(t, err, "with space again the write goes through")
}
