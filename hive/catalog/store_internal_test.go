package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNotWritableSaysWhy(t *testing.T) {
	tests := []struct {
		cause error
		want  string
	}{
		{&fs.PathError{Op: "mkdir", Path: "/h", Err: syscall.EROFS}, "read-only file system"},
		{&fs.PathError{Op: "open", Path: "/h", Err: syscall.EACCES}, "permission denied"},
		{&fs.PathError{Op: "open", Path: "/h", Err: syscall.EPERM}, "permission denied"},
		{&fs.PathError{Op: "mkdir", Path: "/h", Err: syscall.ENOTDIR}, "a path component is not a directory"},
		{fmt.Errorf("write: %w", syscall.ENOSPC), "no space left"},
		{errors.New("odd"), "cannot write"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			err := notWritable("/h/models", tt.cause)
			assert.ErrorIs(t, err, ErrNotWritable)
			assert.ErrorIs(t, err, tt.cause)
			assert.Contains(t, err.Error(), "/h/models: "+tt.want)
		})
	}
}

func TestPosition(t *testing.T) {
	raw := []byte("{\n  \"a\": x\n}")
	line, col := position(raw, 9)
	assert.Equal(t, 2, line)
	assert.Equal(t, 8, col)
}
