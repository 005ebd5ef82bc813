// Package durable makes writes survive a power cut: file data flushed
// before a rename names it complete, and the rename itself flushed.
package durable

import (
	"errors"
	"os"
	"syscall"
)

// SyncFile flushes a written file's data to the disk (fsync applies to the
// inode, whichever descriptor wrote it).
func SyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir makes a rename in dir durable. Some filesystems (FUSE, network
// mounts) refuse fsync on a directory; the file itself is synced by then,
// so that refusal is not a failure.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}
