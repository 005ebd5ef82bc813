//go:build !unix

package mmap

import (
	"io"
	"os"
)

// Map reads the whole file where no mmap is wired up (not linux/darwin).
func Map(f *os.File, size int64) ([]byte, error) {
	b := make([]byte, size)
	_, err := io.ReadFull(f, b)
	return b, err
}

// Unmap releases what Map returned (nothing to do without mmap).
func Unmap([]byte) error { return nil }
