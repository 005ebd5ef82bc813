// Package syncio has the io pieces that goroutines share: a writer whose
// writes do not interleave.
package syncio

import (
	"io"
	"sync"
)

// Writer serialises writes to w, so concurrent writers (two copied streams,
// a copy and a control byte) never interleave inside a Write or race on w.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter wraps w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

func (l *Writer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
