package durable_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/durable"
)

func TestSync(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
	require.NoError(t, durable.SyncFile(p))
	require.NoError(t, durable.SyncDir(dir))
	require.Error(t, durable.SyncFile(filepath.Join(dir, "missing")))
	require.Error(t, durable.SyncDir(filepath.Join(dir, "missing")))
}
