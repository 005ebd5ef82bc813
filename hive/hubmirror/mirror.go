// Package hubmirror is a Hugging Face Hub compatible mirror of a folder:
// DIR/<org>/<name>/<files> is served with the revision, tree and resolve
// endpoints the hub clients use, so pools can point HF_ENDPOINT at one LAN
// mirror and tests can run downloads on loopback. Fault knobs (Faults) make it
// cut, corrupt, stall, fail or ignore Range on purpose.
package hubmirror

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAddr is where `rbee-hive hub serve` listens unless --addr says otherwise.
const DefaultAddr = "127.0.0.1:8088"

// DefaultPageSize is the tree page size; HF pages the tree at 1000 entries.
const DefaultPageSize = 1000

// Mirror serves a folder of repositories. It is an http.Handler.
type Mirror struct {
	root     string
	pageSize int
	log      *slog.Logger
	hashes   hashCache

	mu       sync.Mutex // guards the fields below
	token    string
	faults   map[string]*faultState
	served   map[string]int64 // body bytes of file responses per "org/name/path"
	sending  map[string]int   // file responses of each target still being sent
	ended    chan struct{}    // closed and replaced whenever a file response ends
	requests map[string]int   // file requests per "org/name/path"
	hub      realHub
}

// Option configures a Mirror.
type Option func(*Mirror)

// WithToken requires `Authorization: Bearer TOKEN` on every request.
func WithToken(token string) Option { return func(m *Mirror) { m.token = token } }

// WithPageSize sets the tree page size (tests use small pages to exercise
// Link-header pagination).
func WithPageSize(n int) Option { return func(m *Mirror) { m.pageSize = n } }

// WithLogger logs requests at debug level and problems at warn level.
func WithLogger(l *slog.Logger) Option { return func(m *Mirror) { m.log = l } }

// New returns a mirror of dir.
func New(dir string, opts ...Option) *Mirror {
	m := &Mirror{root: dir, pageSize: DefaultPageSize, log: slog.New(slog.DiscardHandler),
		faults: map[string]*faultState{}, served: map[string]int64{}, requests: map[string]int{},
		sending: map[string]int{}, ended: make(chan struct{})}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Dir is the served folder.
func (m *Mirror) Dir() string { return m.root }

// SetFaults arms fault knobs for one file ("org/name/path") or, with "", for
// every request. It replaces that target's previous knobs and their counts.
func (m *Mirror) SetFaults(target string, f Faults) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults[target] = newFaultState(f)
}

// SetToken changes the required bearer token ("" = none) while serving.
func (m *Mirror) SetToken(token string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.token = token
}

// ClearFaults disarms every knob.
func (m *Mirror) ClearFaults() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = map[string]*faultState{}
}

// settleWait bounds how long BytesServed waits for responses still being sent.
const settleWait = 5 * time.Second

// BytesServed is the number of file body bytes sent for target
// ("org/name/path"), or for all files with "". A response is counted when
// its handler ends, which can be just after its client has read the whole
// body, so it first waits (up to settleWait) for the target's responses
// still being sent to end.
func (m *Mirror) BytesServed(target string) int64 {
	deadline := time.NewTimer(settleWait)
	defer deadline.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	for countOf(m.sending, target) > 0 {
		ended := m.ended
		m.mu.Unlock()
		select {
		case <-ended:
		case <-deadline.C:
			m.mu.Lock()
			return countOf(m.served, target)
		}
		m.mu.Lock()
	}
	return countOf(m.served, target)
}

// countOf is counts[target], or the sum of all counts with "".
func countOf[V int | int64](counts map[string]V, target string) V {
	if target != "" {
		return counts[target]
	}
	var n V
	for _, v := range counts {
		n += v
	}
	return n
}

// startSending marks a response of target in flight; the returned func ends
// it, counting its sent bytes.
func (m *Mirror) startSending(target string) func(sent int64) {
	m.mu.Lock()
	m.sending[target]++
	m.mu.Unlock()
	return func(sent int64) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.served[target] += sent
		if m.sending[target]--; m.sending[target] == 0 {
			delete(m.sending, target)
		}
		close(m.ended)
		m.ended = make(chan struct{})
	}
}

// FileRequests is the number of GET/HEAD resolve requests for target, or all with "".
func (m *Mirror) FileRequests(target string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return countOf(m.requests, target)
}

// ResetStats zeroes BytesServed and FileRequests.
func (m *Mirror) ResetStats() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.served, m.requests = map[string]int64{}, map[string]int{}
}

// Scan hashes every repository now (hashes are cached, so later requests are
// fast) and returns them; `hub serve` calls it at start.
func (m *Mirror) Scan() ([]*Repo, error) {
	orgs, err := os.ReadDir(m.root)
	if err != nil {
		return nil, err
	}
	var repos []*Repo
	for _, o := range orgs {
		if !o.IsDir() || !validName(o.Name()) {
			continue
		}
		names, err := os.ReadDir(m.root + "/" + o.Name())
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !n.IsDir() || !validName(n.Name()) {
				continue
			}
			r, err := m.hashes.scan(m.root, o.Name(), n.Name())
			if err != nil {
				return nil, err
			}
			repos = append(repos, r)
		}
	}
	return repos, nil
}

// Repo scans one repository ("org/name").
func (m *Mirror) Repo(id string) (*Repo, error) {
	org, name, _ := strings.Cut(id, "/")
	return m.hashes.scan(m.root, org, name)
}

func (m *Mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.log.Debug("hub request", "method", r.Method, "path", r.URL.Path, "range", r.Header.Get("Range"))
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hubError(w, http.StatusMethodNotAllowed, "", "method not allowed")
		return
	}
	if !m.authorized(w, r) {
		return
	}
	if m.failGlobal(w) || m.rateLimited(w, "") {
		return
	}
	seg := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	for i, s := range seg {
		if u, err := url.PathUnescape(s); err == nil {
			seg[i] = u
		}
	}
	if m.renamed(w, r, seg) {
		return
	}
	api := len(seg) >= 6 && seg[0] == "api" && seg[1] == "models" && (seg[4] == "revision" || seg[4] == "tree")
	if api {
		m.stallAPI(r)
		if m.gzipFor(r, "") {
			gz := newGzipWriter(w)
			defer gz.Close()
			w = gz
		}
	}
	switch {
	case len(seg) == 6 && seg[0] == "api" && seg[1] == "models" && seg[4] == "revision":
		m.serveRevision(w, r, seg[2], seg[3], seg[5])
	case len(seg) >= 6 && seg[0] == "api" && seg[1] == "models" && seg[4] == "tree":
		m.serveTree(w, r, seg[2], seg[3], seg[5], strings.Join(seg[6:], "/"))
	case len(seg) >= 7 && seg[0] == "api" && seg[1] == "resolve-cache" && seg[2] == "models":
		m.serveFile(w, r, seg[3], seg[4], seg[5], strings.Join(seg[6:], "/"), true)
	case len(seg) >= 5 && seg[2] == "resolve":
		m.serveFile(w, r, seg[0], seg[1], seg[3], strings.Join(seg[4:], "/"), false)
	default:
		hubError(w, http.StatusNotFound, "", "Sorry, we can't find the page you are looking for.")
	}
}

// authorized enforces the bearer token with HF's 401 answers.
func (m *Mirror) authorized(w http.ResponseWriter, r *http.Request) bool {
	m.mu.Lock()
	token := m.token
	m.mu.Unlock()
	if token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || got == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="Authentication required", charset="UTF-8"`)
		hubError(w, http.StatusUnauthorized, "", "Access to this resource is restricted. You must be authenticated to access it. Please log in.")
		return false
	case subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1:
		hubError(w, http.StatusUnauthorized, "", "Invalid credentials in Authorization header")
		return false
	}
	return true
}

func (m *Mirror) failGlobal(w http.ResponseWriter) bool {
	m.mu.Lock()
	fail, status := false, 0
	if s := m.faults[""]; s != nil && fire(&s.failsLeft) {
		fail, status = true, s.f.FailStatus
	}
	m.mu.Unlock()
	return failWith(w, status, fail)
}

// failWith answers a 5xx when fail is set (status 0 = 503).
func failWith(w http.ResponseWriter, status int, fail bool) bool {
	if !fail {
		return false
	}
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	hubError(w, status, "", "Internal Error - We're working hard to fix this as soon as possible!")
	return true
}

func (m *Mirror) private() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.token != ""
}

// lookup scans the repo and checks the revision.
func (m *Mirror) lookup(w http.ResponseWriter, r *http.Request, org, name, rev string) (*Repo, bool) {
	repo, err := m.hashes.scan(m.root, org, name)
	if errors.Is(err, errNoRepo) {
		// The Hub does not tell anonymous users whether a repo exists.
		if r.Header.Get("Authorization") == "" {
			hubError(w, http.StatusUnauthorized, "RepoNotFound", "Invalid username or password.")
		} else {
			hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		}
		return nil, false
	}
	if err != nil {
		m.log.Warn("hub scan failed", "repo", org+"/"+name, "err", err)
		hubError(w, http.StatusInternalServerError, "", err.Error())
		return nil, false
	}
	// The mirror has one revision: the folder as it is now, reachable as
	// "main", by its commit hash or by the names SetRefs added.
	if rev != "main" && rev != repo.Commit && !m.isRef(repo.ID, rev) {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return nil, false
	}
	return repo, true
}

func (m *Mirror) serveRevision(w http.ResponseWriter, r *http.Request, org, name, rev string) {
	repo, ok := m.lookup(w, r, org, name, rev)
	if !ok {
		return
	}
	type sibling struct {
		RFilename string `json:"rfilename"`
	}
	sib := make([]sibling, len(repo.Files))
	for i, f := range repo.Files {
		sib[i] = sibling{f.Path}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_id": repo.Commit[:24], "id": repo.ID, "modelId": repo.ID, "sha": repo.Commit,
		"private": m.private(), "gated": gatedValue(m.gated(repo.ID)), "disabled": false, "library_name": "transformers",
		"tags": []string{}, "siblings": sib, "lastModified": time.Now().UTC().Format(time.RFC3339),
	})
}

// treeEntry is one entry of HF's tree listing.
type treeEntry struct {
	Type string    `json:"type"`
	OID  string    `json:"oid"`
	Size int64     `json:"size"`
	Path string    `json:"path"`
	LFS  *lfsEntry `json:"lfs,omitempty"`
}

type lfsEntry struct {
	OID         string `json:"oid"`
	Size        int64  `json:"size"`
	PointerSize int    `json:"pointerSize"`
}

func (m *Mirror) serveTree(w http.ResponseWriter, r *http.Request, org, name, rev, dir string) {
	repo, ok := m.lookup(w, r, org, name, rev)
	if !ok {
		return
	}
	recursive := r.URL.Query().Get("recursive") == "true" || r.URL.Query().Get("recursive") == "1"
	entries := treeEntries(repo, strings.Trim(dir, "/"), recursive)
	if dir != "" && len(entries) == 0 {
		hubError(w, http.StatusNotFound, "EntryNotFound", fmt.Sprintf("Entry not found: %s does not exist on %q", dir, rev))
		return
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	start = max(0, min(start, len(entries)))
	end := min(len(entries), start+max(1, m.pageSize))
	if end < len(entries) {
		q := r.URL.Query()
		q.Set("cursor", strconv.Itoa(end))
		m.mu.Lock()
		base := m.hub.pageBase
		m.mu.Unlock()
		if base == "" {
			base = baseURL(r)
		}
		w.Header().Set("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", base, r.URL.EscapedPath(), q.Encode()))
	}
	writeJSON(w, http.StatusOK, entries[start:end])
}

// treeEntries lists files (and directories) under dir.
func treeEntries(repo *Repo, dir string, recursive bool) []treeEntry {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	seenDir := map[string]bool{}
	out := []treeEntry{}
	for _, f := range repo.Files {
		rest, ok := strings.CutPrefix(f.Path, prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rest, "/")
		// Directories appear before the files inside them, like HF lists them.
		for i := 1; i < len(parts); i++ {
			d := prefix + strings.Join(parts[:i], "/")
			if !seenDir[d] && (recursive || i == 1) {
				seenDir[d] = true
				out = append(out, treeEntry{Type: "directory", OID: gitBlobOID([]byte(d)), Path: d})
			}
		}
		if !recursive && len(parts) > 1 {
			continue
		}
		e := treeEntry{Type: "file", OID: f.GitOID, Size: f.Size, Path: f.Path}
		if f.LFS {
			e.LFS = &lfsEntry{OID: f.SHA256, Size: f.Size, PointerSize: f.PtrSize}
		}
		out = append(out, e)
	}
	return out
}

// hubError answers like the hub: JSON {"error": ...} plus X-Error-Code and
// X-Error-Message headers that clients branch on.
func hubError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Server is a mirror listening on an address.
type Server struct {
	*Mirror
	URL   string // http://HOST:PORT, the value for HF_ENDPOINT
	srv   *http.Server
	ln    net.Listener
	extra []*http.Server // the CDN listener, if started
}

// Listen starts serving m on addr ("127.0.0.1:0" picks a free loopback port).
func Listen(m *Mirror, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("hub mirror: listen %s: %w", addr, err)
	}
	s := &Server{Mirror: m, URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: m, ReadHeaderTimeout: 30 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Warn("hub mirror stopped", "err", err)
		}
	}()
	return s, nil
}

// Start serves dir on a free loopback port (for tests and harnesses); Close it.
func Start(dir string, opts ...Option) (*Server, error) {
	return Listen(New(dir, opts...), "127.0.0.1:0")
}

// Close stops the server (and its CDN) and drops open connections.
func (s *Server) Close() error {
	for _, x := range s.extra {
		x.Close()
	}
	return s.srv.Close()
}

// Shutdown stops accepting and waits for open requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, x := range s.extra {
		_ = x.Shutdown(ctx)
	}
	return s.srv.Shutdown(ctx)
}

// Addr is the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }
