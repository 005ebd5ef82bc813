package mmap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/rbee-go/rbee/internal/mmap"
)

// A file written in small pieces (as a download writes it) leaves small
// page-cache folios; Map still ends up mapping it in 2 MiB pages where the
// kernel supports file THP (a THP-enabled kernel and ext4/xfs).
func TestMapUsesHugePages(t *testing.T) {
	const size = 16 << 20
	p := filepath.Join(t.TempDir(), "weights")
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i*31 + i>>12)
	}
	f, err := os.Create(p)
	require.NoError(t, err)
	for off := 0; off < size; off += 64 << 10 {
		_, err := f.Write(want[off : off+64<<10])
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())

	f, err = os.Open(p)
	require.NoError(t, err)
	b, err := mmap.Map(f, size)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	t.Cleanup(func() { _ = mmap.Unmap(b) })
	require.Equal(t, want, b, "contents")

	thp, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(p, &st))
	huge := mmap.HugeBytes(b)
	t.Logf("THP %q, fs magic %#x: %d of %d bytes in 2 MiB pages", strings.TrimSpace(string(thp)), st.Type, huge, size)
	if mmap.FileTHP(p) {
		require.GreaterOrEqual(t, huge, int64(size-2<<20), "mapped in 2 MiB pages but the unaligned ends")
	}
}
