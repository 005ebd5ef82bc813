package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// LogOptions select what Logs prints.
type LogOptions struct {
	Tail   int  // last N lines only; 0 = the whole log
	Follow bool // keep printing new output until the worker exits or ctx ends
}

// followPoll is how often a followed log is checked for new output.
const followPoll = 100 * time.Millisecond

// Logs writes the worker's log to w. The log of a worker whose spawn failed
// (no record left) can still be read.
func (m *Manager) Logs(ctx context.Context, id string, opt LogOptions, w io.Writer) error {
	if err := validID(id); err != nil {
		return err
	}
	rec, recErr := m.readRecord(id)
	if recErr != nil && CodeOf(recErr) != CodeWorkerNotFound {
		return recErr
	}
	path := m.logPath(id)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if recErr != nil {
			return recErr
		}
		return fmt.Errorf("%s has no log at %s", id, path)
	}
	if err != nil {
		return fmt.Errorf("opening log: %w", err)
	}
	defer f.Close()

	if opt.Tail > 0 {
		lines, err := tailLines(path, opt.Tail)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
		// Continue following from the end, not from the tail's start.
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			return err
		}
	} else if _, err := io.Copy(w, f); err != nil {
		return err
	}
	if !opt.Follow || recErr != nil {
		return nil
	}
	for {
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		if !alive(ctx, rec.PID, rec.StartTime) {
			_, err := io.Copy(w, f) // what it wrote on the way out
			return err
		}
		select {
		case <-ctx.Done():
			return nil // Ctrl-C ends a follow normally
		case <-time.After(followPoll):
		}
	}
}

// tailLines returns the last n lines of the file at path, reading backwards
// in chunks so a large log is not read whole.
func tailLines(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	const chunk = 16 << 10
	end := st.Size()
	var buf []byte
	for end > 0 && bytes.Count(bytes.TrimRight(buf, "\n"), []byte("\n")) < n {
		start := max(0, end-chunk)
		part := make([]byte, end-start)
		if _, err := f.ReadAt(part, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		buf = append(part, buf...)
		end = start
	}
	text := strings.TrimRight(string(buf), "\n")
	if text == "" {
		return nil, nil
	}
	lines := strings.Split(text, "\n")
	// More than n lines were read whenever the first one may be partial.
	return lines[max(0, len(lines)-n):], nil
}
