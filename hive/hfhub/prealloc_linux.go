package hfhub

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// preallocate reserves the file's blocks at once (parallel parts then never
// fragment it or fail half-way for lack of space).
func preallocate(f *os.File, size int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return f.Truncate(size)
	}
	return err
}
