// Package tmpfs mounts small size-limited file systems for tests that need a
// disk to fill up (ENOSPC). It needs root (the test bed runs as root); a test
// that cannot mount fails, it never skips.
package tmpfs

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Mount mounts a tmpfs of size bytes on a new temporary directory and
// unmounts it when the test ends.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.FormatInt(size, 10), "rbee-test", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("mounting a %d-byte tmpfs on %s (the disk-full tests need root): %v: %s", size, dir, err, strings.TrimSpace(string(out)))
	}
	// Registered after TempDir's own cleanup, so it runs first (LIFO).
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
		}
	})
	return dir
}
