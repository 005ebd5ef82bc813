package hubmirror

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// serveFile answers a resolve (or, cached, a resolve-cache) request.
func (m *Mirror) serveFile(w http.ResponseWriter, r *http.Request, org, name, rev, p string, cached bool) {
	repo, ok := m.lookup(w, r, org, name, rev)
	if !ok {
		return
	}
	target := repo.ID + "/" + p
	m.mu.Lock()
	m.requests[target]++
	m.mu.Unlock()
	if !m.gateOK(w, r, repo.ID) {
		return
	}
	m.mu.Lock()
	pl := m.plan(target)
	var fail bool
	var status int
	if s := m.faults[target]; s != nil && fire(&s.failsLeft) {
		fail, status = true, s.f.FailStatus
	}
	m.mu.Unlock()
	if failWith(w, status, fail) || m.rateLimited(w, target) {
		return
	}
	f, ok := repo.file(p)
	if !ok {
		hubError(w, http.StatusNotFound, "EntryNotFound", fmt.Sprintf("%s does not exist on %q", p, rev))
		return
	}
	if !cached && m.resolveCacheRedirect(w, r, repo, f) {
		return
	}
	if loc := m.presign(r, repo, f, pl); loc != "" {
		// LFS files live on the CDN: the hub answers their metadata and a
		// redirect to a presigned URL there.
		h := w.Header()
		fileHeaders(h, repo, f)
		m.xetHeaders(h, r, repo, f)
		h.Set("Location", loc)
		w.WriteHeader(http.StatusFound)
		return
	}
	m.xetHeaders(w.Header(), r, repo, f)
	m.sendFile(w, r, repo, f)
}

// plan collects the global and per-file knobs of target; caller holds mu.
func (m *Mirror) plan(target string) *plan {
	pl := &plan{m: m}
	for _, k := range []string{"", target} {
		if s := m.faults[k]; s != nil {
			pl.states = append(pl.states, s)
		}
	}
	return pl
}

func fileHeaders(h http.Header, repo *Repo, f File) {
	h.Set("X-Repo-Commit", repo.Commit)
	if f.LFS {
		h.Set("ETag", `"`+f.SHA256+`"`)
		h.Set("X-Linked-Etag", `"`+f.SHA256+`"`)
		h.Set("X-Linked-Size", strconv.FormatInt(f.Size, 10))
	} else {
		h.Set("ETag", `"`+f.GitOID+`"`)
	}
}

// sendFile serves a file's content (from the hub or the CDN) with its knobs.
func (m *Mirror) sendFile(w http.ResponseWriter, r *http.Request, repo *Repo, f File) {
	target := repo.ID + "/" + f.Path
	m.mu.Lock()
	pl := m.plan(target)
	m.mu.Unlock()
	if f.Pointer {
		hubError(w, http.StatusServiceUnavailable, "", "LFS object of "+f.Path+" is not present on this mirror (pointer file only)")
		return
	}
	fh, err := os.Open(f.abs)
	if err != nil {
		hubError(w, http.StatusNotFound, "EntryNotFound", fmt.Sprintf("%s does not exist", f.Path))
		return
	}
	defer fh.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	fileHeaders(h, repo, f)
	if pl.active(func(f Faults) bool { return f.IgnoreRange }) {
		r.Header.Del("Range")
		h.Set("Accept-Ranges", "none")
	}
	var content io.ReadSeeker = fh // an *os.File keeps sendfile possible
	if pl.active(func(f Faults) bool { return f.Corrupt }) {
		content = &corruptReader{ReadSeeker: fh, p: pl}
	}
	var sent *int64
	var out http.ResponseWriter
	if pl.active(func(f Faults) bool { return f.CutAfter > 0 || f.StallFor > 0 || f.CutTotal > 0 }) {
		fw := newFaultWriter(w, pl, r.Context())
		out, sent = fw, &fw.n
	} else {
		cw := &countingWriter{ResponseWriter: w}
		out, sent = cw, &cw.n
	}
	end := m.startSending(target)
	defer func() { end(*sent) }() // also runs when a cut aborts the handler
	if m.gzipFor(r, target) {
		gz := newGzipWriter(out)
		defer gz.Close()
		out = gz
	}
	http.ServeContent(out, r, "", time.Time{}, content)
}

func gatedValue(gated bool) any {
	if gated {
		return "manual"
	}
	return false
}
