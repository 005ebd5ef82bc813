//go:build !unix

package safetensors

import (
	"io"
	"os"
)

// mapFile reads the whole file where no mmap is wired up (not linux/darwin).
func mapFile(f *os.File, size int64) ([]byte, error) {
	b := make([]byte, size)
	_, err := io.ReadFull(f, b)
	return b, err
}

func unmapFile([]byte) error { return nil }
