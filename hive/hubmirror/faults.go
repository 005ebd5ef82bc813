package hubmirror

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"time"
)

// Faults are test knobs that make the mirror misbehave like a flaky network or
// hub. Set them per file ("org/name/path") or globally ("") with SetFaults; they
// can be changed while the mirror serves. Each Times field counts how many
// times the knob fires (0 = every time); a knob fires only when a response
// actually reaches it (a cut after N bytes does not fire on a shorter body).
type Faults struct {
	// CutAfter > 0 aborts the connection after this many body bytes of a
	// file response (the client sees a reset / unexpected EOF); with
	// CutTimes 0 every body is short of its Content-Length.
	CutAfter int64
	CutTimes int

	// CutTotal > 0 cuts every open response of the file once its responses
	// have sent this many body bytes in total (once), like a link that drops
	// while several ranges are in flight.
	CutTotal int64

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

	// RateLimit > 0 answers 429 to the next RateLimit requests (a global
	// knob counts every request), announcing a wait of RateLimitWait seconds
	// in the Hub's RateLimit header (`t=`), or in Retry-After with
	// RetryAfterOnly.
	RateLimit      int
	RateLimitWait  int
	RetryAfterOnly bool

	// StallAPIFor > 0 holds API answers (revision, tree) that long,
	// StallAPITimes times (0 = every time); a global knob only.
	StallAPIFor   time.Duration
	StallAPITimes int

	// Gzip compresses bodies when the request's Accept-Encoding allows gzip
	// (an absent header allows it), like a compressing proxy; GzipAlways
	// even when the client asked for identity.
	Gzip       bool
	GzipAlways bool

	// ExpireURLs > 0 issues the next ExpireURLs presigned CDN URLs already
	// expired (the CDN answers 403), as when a download waited too long.
	ExpireURLs int
}

// faultState is a Faults with its remaining fire counts (-1 = unlimited).
type faultState struct {
	f                                  Faults
	cutsLeft, corruptsLeft, stallsLeft int
	failsLeft, rateLeft, expiresLeft   int
	stallAPILeft                       int
	totalSent                          int64 // body bytes sent, for CutTotal
	cutGen                             int   // bumped when CutTotal fires
}

func newFaultState(f Faults) *faultState {
	left := func(times int) int {
		if times <= 0 {
			return -1
		}
		return times
	}
	return &faultState{f: f, cutsLeft: left(f.CutTimes), corruptsLeft: left(f.CorruptTimes),
		stallsLeft: left(f.StallTimes), failsLeft: f.FailFirst, rateLeft: f.RateLimit, expiresLeft: f.ExpireURLs,
		stallAPILeft: left(f.StallAPITimes)}
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
	p    *plan
	ctx  interface{ Done() <-chan struct{} }
	n    int64
	gens []int // cutGen of each state when the response started
}

func newFaultWriter(w http.ResponseWriter, p *plan, ctx interface{ Done() <-chan struct{} }) *faultWriter {
	fw := &faultWriter{ResponseWriter: w, p: p, ctx: ctx}
	p.m.mu.Lock()
	for _, s := range p.states {
		fw.gens = append(fw.gens, s.cutGen)
	}
	p.m.mu.Unlock()
	return fw
}

// cutTotal counts k more bytes against the CutTotal knobs and reports
// whether this response is cut.
func (w *faultWriter) cutTotal(k int) bool {
	w.p.m.mu.Lock()
	defer w.p.m.mu.Unlock()
	cut := false
	for i, s := range w.p.states {
		if s.f.CutTotal <= 0 {
			continue
		}
		s.totalSent += int64(k)
		if s.cutGen == 0 && s.totalSent >= s.f.CutTotal {
			s.cutGen++
		}
		cut = cut || s.cutGen > w.gens[i]
	}
	return cut
}

func (w *faultWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		next := int64(len(b))
		// Stop at the nearest knob boundary inside this chunk.
		w.p.m.mu.Lock()
		for _, s := range w.p.states {
			for _, at := range []int64{s.f.CutAfter, s.f.StallAfter} {
				if at > w.n && at-w.n < next {
					next = at - w.n
				}
			}
			if left := s.f.CutTotal - s.totalSent; s.f.CutTotal > 0 && s.cutGen == 0 && left > 0 && left < next {
				next = left
			}
		}
		w.p.m.mu.Unlock()
		k, err := w.ResponseWriter.Write(b[:next])
		w.n += int64(k)
		written += k
		if err != nil {
			return written, err
		}
		if w.cutTotal(k) {
			if fl, ok := w.ResponseWriter.(http.Flusher); ok {
				fl.Flush()
			}
			panic(http.ErrAbortHandler)
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

// rateLimited answers 429 when a RateLimit knob of target ("" = global) fires.
func (m *Mirror) rateLimited(w http.ResponseWriter, target string) bool {
	m.mu.Lock()
	s := m.faults[target]
	fired := s != nil && fire(&s.rateLeft)
	m.mu.Unlock()
	if fired {
		rateLimit(w, s.f.RateLimitWait, s.f.RetryAfterOnly)
	}
	return fired
}

// stallAPI holds an API answer when the global StallAPIFor knob fires.
func (m *Mirror) stallAPI(r *http.Request) {
	m.mu.Lock()
	s := m.faults[""]
	fired := s != nil && s.f.StallAPIFor > 0 && fire(&s.stallAPILeft)
	m.mu.Unlock()
	if fired {
		select {
		case <-time.After(s.f.StallAPIFor):
		case <-r.Context().Done():
		}
	}
}

// gzipFor reports whether the knobs of target compress this answer.
func (m *Mirror) gzipFor(r *http.Request, target string) bool {
	m.mu.Lock()
	pl := m.plan(target)
	m.mu.Unlock()
	if pl.active(func(f Faults) bool { return f.GzipAlways }) {
		return true
	}
	ae := r.Header.Get("Accept-Encoding")
	return pl.active(func(f Faults) bool { return f.Gzip }) && (ae == "" || strings.Contains(ae, "gzip"))
}

// gzipWriter compresses a response like a proxy would: Content-Length and
// ranges no longer describe the bytes on the wire.
type gzipWriter struct {
	http.ResponseWriter
	zw    *gzip.Writer
	wrote bool
}

func newGzipWriter(w http.ResponseWriter) *gzipWriter {
	return &gzipWriter{ResponseWriter: w, zw: gzip.NewWriter(w)}
}

func (g *gzipWriter) WriteHeader(status int) {
	g.wrote = true
	g.Header().Del("Content-Length")
	g.Header().Set("Content-Encoding", "gzip")
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	return g.zw.Write(b)
}

func (g *gzipWriter) Close() error { return g.zw.Close() }
