// Package tmpfs mounts small size-limited file systems for tests that need a
// disk to fill up (ENOSPC). It needs root (the test bed runs as root); a test
// that cannot mount fails, it never skips.
package tmpfs

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// MountDir mounts a tmpfs of size bytes on the existing directory dir; the
// returned func unmounts it.
func MountDir(dir string, size int64) (unmount func() error, err error) {
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.FormatInt(size, 10), "rbee-test", dir).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("mounting a %d-byte tmpfs on %s (the disk-full tests need root): %v: %s", size, dir, err, strings.TrimSpace(string(out)))
	}
	return func() error {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("unmounting %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
		}
		return nil
	}, nil
}

// Mount mounts a tmpfs of size bytes on a new temporary directory and
// unmounts it when the test ends.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	unmount, err := MountDir(dir, size)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after TempDir's own cleanup, so it runs first (LIFO).
	t.Cleanup(func() {
		if err := unmount(); err != nil {
			t.Error(err)
		}
	})
	return dir
}
