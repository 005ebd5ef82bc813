package hubmirror

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// realHub is what huggingface.co does beyond the plain protocol, switched on
// per mirror (guarded by Mirror.mu): renamed repos, gated repos, extra
// revision names, relative redirects of small files, a CDN for LFS files,
// Xet headers, pagination links to another host.
type realHub struct {
	renames      map[string]string          // old org/name → new org/name
	gates        map[string]map[string]bool // gated repo → tokens whose accounts accepted its terms
	refs         map[string]map[string]bool // repo → extra revision names (tags, branches, refs/pr/N)
	resolveCache bool
	xet          bool
	pageBase     string // scheme://host of tree pagination links ("" = the request's host)
	cdn          *cdn
}

// Rename makes requests naming old answer a 307 to the same path under new,
// like the Hub after a repo is renamed or moved.
func (m *Mirror) Rename(old, new string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hub.renames == nil {
		m.hub.renames = map[string]string{}
	}
	m.hub.renames[old] = new
}

// Gate makes repo a gated repo: its files need the bearer token of an account
// that accepted the terms (accepted lists such tokens; Accept adds more).
// Listing and revision info stay public, as on the Hub.
func (m *Mirror) Gate(repo string, accepted ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hub.gates == nil {
		m.hub.gates = map[string]map[string]bool{}
	}
	g := map[string]bool{}
	for _, t := range accepted {
		g[t] = true
	}
	m.hub.gates[repo] = g
}

// Accept records that the account of token accepted the terms of gated repo.
func (m *Mirror) Accept(repo, token string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if g := m.hub.gates[repo]; g != nil {
		g[token] = true
	}
}

// SetRefs adds revision names (branches, tags, refs/pr/N) that resolve to
// repo's commit, besides "main" and the commit hash.
func (m *Mirror) SetRefs(repo string, refs ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hub.refs == nil {
		m.hub.refs = map[string]map[string]bool{}
	}
	set := map[string]bool{}
	for _, r := range refs {
		set[r] = true
	}
	m.hub.refs[repo] = set
}

// SetResolveCache makes small (non-LFS) files answer a relative 307 to
// /api/resolve-cache/models/..., as the Hub does.
func (m *Mirror) SetResolveCache(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hub.resolveCache = on
}

// SetXet adds the Xet storage headers (X-Xet-Hash, X-Xet-Refresh-Route, Link
// rel=xet-auth) to LFS answers, as Xet-backed Hub repos send them; clients
// that do not speak Xet follow the ordinary redirect.
func (m *Mirror) SetXet(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hub.xet = on
}

// SetPageBase makes tree pagination links absolute URLs on base
// (scheme://host:port), e.g. another host name of the same mirror.
func (m *Mirror) SetPageBase(base string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hub.pageBase = strings.TrimRight(base, "/")
}

// renamed answers the 307 of a renamed repo; seg is the unescaped path.
func (m *Mirror) renamed(w http.ResponseWriter, r *http.Request, seg []string) bool {
	i := 0 // where org/name starts in seg
	switch {
	case len(seg) >= 4 && seg[0] == "api" && (seg[1] == "models"):
		i = 2
	case len(seg) >= 4 && seg[0] == "api" && seg[1] == "resolve-cache" && seg[2] == "models":
		i = 3
	case len(seg) >= 3 && seg[2] == "resolve":
	default:
		return false
	}
	m.mu.Lock()
	to, ok := m.hub.renames[seg[i]+"/"+seg[i+1]]
	m.mu.Unlock()
	if !ok {
		return false
	}
	org, name, _ := strings.Cut(to, "/")
	esc := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	esc[i], esc[i+1] = url.PathEscape(org), url.PathEscape(name)
	loc := "/" + strings.Join(esc, "/")
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	hubError(w, http.StatusTemporaryRedirect, "", "Moved to "+to)
	return true
}

// gateOK enforces a gated repo's terms with the Hub's 401/403 answers.
func (m *Mirror) gateOK(w http.ResponseWriter, r *http.Request, repo string) bool {
	m.mu.Lock()
	g, gated := m.hub.gates[repo]
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	ok := !gated || tok != "" && g[tok]
	m.mu.Unlock()
	switch {
	case ok:
		return true
	case tok == "":
		hubError(w, http.StatusUnauthorized, "GatedRepo", fmt.Sprintf(
			"Access to model %s is restricted. You must have access to it and be authenticated to access it. Please log in.", repo))
	default:
		hubError(w, http.StatusForbidden, "GatedRepo", fmt.Sprintf(
			"Access to model %s is restricted and you are not in the authorized list. Visit %s/%s to ask for access.", repo, baseURL(r), repo))
	}
	return false
}

func (m *Mirror) gated(repo string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.hub.gates[repo]
	return ok
}

func (m *Mirror) isRef(repo, rev string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hub.refs[repo][rev]
}

// resolveCacheRedirect answers the Hub's relative 307 for a small file.
func (m *Mirror) resolveCacheRedirect(w http.ResponseWriter, r *http.Request, repo *Repo, f File) bool {
	m.mu.Lock()
	on := m.hub.resolveCache
	m.mu.Unlock()
	if !on || f.LFS {
		return false
	}
	org, name, _ := strings.Cut(repo.ID, "/")
	loc := fmt.Sprintf("/api/resolve-cache/models/%s/%s/%s/%s?%s", url.PathEscape(org), url.PathEscape(name),
		repo.Commit, escapePath(f.Path), url.Values{"etag": {`"` + f.GitOID + `"`}}.Encode())
	h := w.Header()
	h.Set("Location", loc)
	h.Set("X-Repo-Commit", repo.Commit)
	h.Set("ETag", `"`+f.GitOID+`"`)
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// xetHeaders are what a Xet-backed LFS answer carries besides the redirect.
func (m *Mirror) xetHeaders(h http.Header, r *http.Request, repo *Repo, f File) {
	m.mu.Lock()
	on := m.hub.xet
	m.mu.Unlock()
	if !on || !f.LFS {
		return
	}
	base := baseURL(r)
	h.Set("X-Xet-Hash", f.SHA256)
	h.Set("X-Xet-Refresh-Route", "/api/models/"+repo.ID+"/xet-read-token/"+repo.Commit)
	h.Set("X-Xet-Cas-Url", "https://cas-server.xethub.hf.co")
	h.Add("Link", fmt.Sprintf(`<%s/api/models/%s/xet-read-token/%s>; rel="xet-auth", <https://cas-server.xethub.hf.co/reconstruction/%s>; rel="xet-reconstruction-info"`,
		base, repo.ID, repo.Commit, f.SHA256))
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// rateLimit answers 429 with the Hub's IETF RateLimit headers when the knob fires.
func rateLimit(w http.ResponseWriter, wait int, retryAfterOnly bool) {
	h := w.Header()
	if retryAfterOnly {
		h.Set("Retry-After", strconv.Itoa(wait))
	} else {
		h.Set("RateLimit", fmt.Sprintf(`"resolvers";r=0;t=%d`, wait))
		h.Set("RateLimit-Policy", `"fixed window";"resolvers";q=3000;w=300`)
	}
	hubError(w, http.StatusTooManyRequests, "", fmt.Sprintf(
		"You have been rate-limited; you can retry this action in about %d seconds. If you're a new user, your limits will raise progressively over time. Get in touch with us at website@huggingface.co if you need access to higher limits.", wait))
}
