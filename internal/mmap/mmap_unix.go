//go:build unix

// Package mmap maps files read-only for the weight readers (safetensors,
// GGUF), so tensors alias the page cache instead of being copied.
package mmap

import (
	"os"

	"golang.org/x/sys/unix"
)

// Map maps f read-only; the mapping stays valid after f is closed. On
// Linux the pages are made resident at once, in 2 MiB pages where the
// kernel can (see preferHuge): weights are streamed whole every token.
func Map(f *os.File, size int64) ([]byte, error) {
	if size == 0 {
		return []byte{}, nil // mmap of length 0 is EINVAL
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	preferHuge(f, b)
	return b, nil
}

// Unmap releases a mapping made by Map.
func Unmap(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Munmap(b)
}
