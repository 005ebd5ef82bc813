package hubmirror

import (
	"io"
	"net/http"
	"time"
)

// Faults are test knobs that make the mirror misbehave like a flaky network or
// hub. Set them per file ("org/name/path") or globally ("") with SetFaults; they
// can be changed while the mirror serves. Each Times field counts how many
// times the knob fires (0 = every time); a knob fires only when a response
// actually reaches it (a cut after N bytes does not fire on a shorter body).
type Faults struct {
	// CutAfter > 0 aborts the connection after this many body bytes of a
	// file response (the client sees a reset / unexpected EOF).
	CutAfter int64
	CutTimes int

	// Corrupt flips one byte at file offset CorruptAt in the served content.
	Corrupt      bool
	CorruptAt    int64
	CorruptTimes int

	// StallFor > 0 stops sending for that long after StallAfter body bytes.
	StallAfter int64
	StallFor   time.Duration
	StallTimes int

	// FailFirst answers FailStatus (default 503) to the next FailFirst
	// requests (a global knob counts every request, API calls included).
	FailFirst  int
	FailStatus int

	// IgnoreRange answers 200 with the whole file to Range requests, like a
	// server or proxy without range support.
	IgnoreRange bool
}

// faultState is a Faults with its remaining fire counts (-1 = unlimited).
type faultState struct {
	f                                  Faults
	cutsLeft, corruptsLeft, stallsLeft int
	failsLeft                          int
}

func newFaultState(f Faults) *faultState {
	left := func(times int) int {
		if times <= 0 {
			return -1
		}
		return times
	}
	return &faultState{f: f, cutsLeft: left(f.CutTimes), corruptsLeft: left(f.CorruptTimes),
		stallsLeft: left(f.StallTimes), failsLeft: f.FailFirst}
}

// fire consumes one use of a counter; caller holds Mirror.mu.
func fire(left *int) bool {
	switch {
	case *left < 0:
		return true
	case *left == 0:
		return false
	}
	*left--
	return true
}

// plan is what the faults do to one file response.
type plan struct {
	m           *Mirror
	states      []*faultState // global and per-file, in that order
	ignoreRange bool
}

func (p *plan) active(pred func(f Faults) bool) bool {
	for _, s := range p.states {
		if pred(s.f) {
			return true
		}
	}
	return false
}

// fireAt reports whether a knob selected by get fires at this byte position.
func (p *plan) fireAt(get func(s *faultState) (armed bool, left *int)) bool {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	for _, s := range p.states {
		if armed, left := get(s); armed && fire(left) {
			return true
		}
	}
	return false
}

// faultWriter applies cut and stall knobs to a body, counting bytes sent.
type faultWriter struct {
	http.ResponseWriter
	p   *plan
	ctx interface{ Done() <-chan struct{} }
	n   int64
}

func (w *faultWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		next := int64(len(b))
		// Stop at the nearest knob boundary inside this chunk.
		for _, s := range w.p.states {
			for _, at := range []int64{s.f.CutAfter, s.f.StallAfter} {
				if at > w.n && at-w.n < next {
					next = at - w.n
				}
			}
		}
		k, err := w.ResponseWriter.Write(b[:next])
		w.n += int64(k)
		written += k
		if err != nil {
			return written, err
		}
		b = b[next:]
		w.atBoundary()
	}
	return written, nil
}

func (w *faultWriter) atBoundary() {
	var stall time.Duration
	stalled := w.p.fireAt(func(s *faultState) (bool, *int) {
		stall = s.f.StallFor
		return s.f.StallFor > 0 && s.f.StallAfter == w.n, &s.stallsLeft
	})
	if stalled {
		if fl, ok := w.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
		select {
		case <-time.After(stall):
		case <-w.ctx.Done():
		}
	}
	cut := w.p.fireAt(func(s *faultState) (bool, *int) {
		return s.f.CutAfter > 0 && s.f.CutAfter == w.n, &s.cutsLeft
	})
	if cut {
		if fl, ok := w.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // net/http closes the connection, no log line
	}
}

// countingWriter counts body bytes but keeps net/http's ReaderFrom (sendfile)
// path when no cut or stall knob is set.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	k, err := w.ResponseWriter.Write(b)
	w.n += int64(k)
	return k, err
}

func (w *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		k, err := rf.ReadFrom(r)
		w.n += k
		return k, err
	}
	k, err := io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	w.n += k
	return k, err
}

// corruptReader flips the byte at file offset at (when a knob fires) while
// content flows through http.ServeContent.
type corruptReader struct {
	io.ReadSeeker
	p   *plan
	pos int64
}

func (r *corruptReader) Seek(off int64, whence int) (int64, error) {
	n, err := r.ReadSeeker.Seek(off, whence)
	if err == nil {
		r.pos = n
	}
	return n, err
}

func (r *corruptReader) Read(b []byte) (int, error) {
	n, err := r.ReadSeeker.Read(b)
	for _, s := range r.p.states {
		at := s.f.CorruptAt
		if s.f.Corrupt && at >= r.pos && at < r.pos+int64(n) {
			if r.p.fireAt(func(x *faultState) (bool, *int) { return x == s, &x.corruptsLeft }) {
				b[at-r.pos] ^= 0xff
			}
		}
	}
	r.pos += int64(n)
	return n, err
}
