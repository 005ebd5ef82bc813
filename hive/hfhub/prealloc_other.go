//go:build !linux

package hfhub

import "os"

// preallocate sizes the file (sparse where the filesystem has no fallocate).
func preallocate(f *os.File, size int64) error { return f.Truncate(size) }
