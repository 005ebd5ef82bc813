package mmap_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/mmap"
)

func TestMapReadsTheFileAndOutlivesIt(t *testing.T) {
	for _, content := range []string{"", "hello, mapped world"} {
		p := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		f, err := os.Open(p)
		require.NoError(t, err)
		b, err := mmap.Map(f, int64(len(content)))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.Equal(t, content, string(b))
		require.NoError(t, mmap.Unmap(b))
	}
}
