// Package hfhub downloads model repositories over the Hugging Face Hub HTTP
// protocol (revision, tree and resolve endpoints): resumable `.incomplete`
// files, size and sha256 verification, parallel files, retries with backoff,
// stall detection, disk-space refusal and progress reporting.
package hfhub

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
)

// Client talks to one hub endpoint.
type Client struct {
	cfg          Config
	http         *http.Client
	tries        int
	baseDelay    time.Duration
	maxDelay     time.Duration
	stallTimeout time.Duration
	apiTimeout   time.Duration
	rateBudget   time.Duration
	parallel     int
	connections  int
	rangeMin     int64
	bufSize      int
	freeSpace    func(dir string) (uint64, error)
	progress     Progress
	log          *slog.Logger
	bufs         sync.Pool // *[]byte of bufSize
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (its transport should not
// transparently decompress, or Range resumes break).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTransport replaces the HTTP transport but keeps the client's redirect
// policy (tests resolve fake host names through it).
func WithTransport(rt http.RoundTripper) Option { return func(c *Client) { c.http.Transport = rt } }

// WithRetries sets the tries per request (default 6) and the first backoff
// delay (default 1s, doubling up to 30s); tests shrink the delay.
func WithRetries(tries int, base time.Duration) Option {
	return func(c *Client) { c.tries, c.baseDelay = max(1, tries), base }
}

// WithStallTimeout sets how long a transfer may deliver no byte before it is
// abandoned and retried (default 30s).
func WithStallTimeout(d time.Duration) Option { return func(c *Client) { c.stallTimeout = d } }

// WithAPITimeout bounds each API call (revision, tree, index; default 30s):
// a hub that accepts the connection but never answers is retried.
func WithAPITimeout(d time.Duration) Option { return func(c *Client) { c.apiTimeout = d } }

// WithRateLimitBudget bounds the total time a download waits for the hub's
// rate limit (429) before it gives up (default DefaultRateLimitBudget).
func WithRateLimitBudget(d time.Duration) Option { return func(c *Client) { c.rateBudget = d } }

// WithConnections sets how many concurrent range requests fetch one LFS file
// of at least minSize bytes (defaults DefaultConnections, DefaultRangeMin;
// minSize <= 0 keeps the default). A single TCP stream from a CDN is often
// capped far below the link; 1 fetches every file as one stream.
func WithConnections(n int, minSize int64) Option {
	return func(c *Client) {
		c.connections = max(1, n)
		if minSize > 0 {
			c.rangeMin = minSize
		}
	}
}

// WithParallel sets how many files download at once (default 4).
func WithParallel(n int) Option { return func(c *Client) { c.parallel = max(1, n) } }

// WithFreeSpace replaces the free-space probe (default: the filesystem's
// available bytes), for callers that reserve space for other things.
func WithFreeSpace(f func(dir string) (uint64, error)) Option {
	return func(c *Client) { c.freeSpace = f }
}

// WithBufferSize sets the chunk size handed to the hasher (default 512 KiB:
// one goroutine handoff per chunk rather than per socket read was worth
// ~25% throughput on loopback; socket reads stay at readSize).
func WithBufferSize(n int) Option { return func(c *Client) { c.bufSize = max(4096, n) } }

// WithProgress reports transfer progress (default: none).
func WithProgress(p Progress) Option { return func(c *Client) { c.progress = p } }

// WithLogger logs retries and decisions at debug level.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// New returns a client for cfg.
func New(cfg Config, opts ...Option) *Client {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true // byte ranges must address the file, not a gzip stream
	tr.ReadBufferSize = 32 << 10 // below the chunk size, so body reads bypass bufio
	tr.MaxIdleConnsPerHost = 16
	c := &Client{cfg: cfg, http: &http.Client{Transport: tr, CheckRedirect: checkRedirect}, tries: 6, baseDelay: time.Second,
		maxDelay: 30 * time.Second, stallTimeout: 30 * time.Second, apiTimeout: 30 * time.Second,
		rateBudget: DefaultRateLimitBudget, parallel: 4, connections: DefaultConnections, rangeMin: DefaultRangeMin, bufSize: 512 << 10,
		freeSpace: diskFree, progress: nopProgress{}, log: slog.New(slog.DiscardHandler)}
	if cfg.StallTimeout > 0 {
		c.stallTimeout = cfg.StallTimeout
	}
	if cfg.RateLimitBudget > 0 {
		c.rateBudget = cfg.RateLimitBudget
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Endpoint is the hub URL this client talks to.
func (c *Client) Endpoint() string { return c.cfg.Endpoint }

func diskFree(dir string) (uint64, error) {
	u, err := disk.Usage(dir)
	if err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return u.Free, nil // Free is what an unprivileged user may still write (statfs f_bavail)
}

// TreeEntry is one file of a repository tree.
type TreeEntry struct {
	Type string `json:"type"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	OID  string `json:"oid"` // git blob id
	LFS  *struct {
		OID  string `json:"oid"` // sha256 of the content
		Size int64  `json:"size"`
	} `json:"lfs,omitempty"`
}

// SHA256 is the content hash the hub publishes (LFS files only).
func (e TreeEntry) SHA256() string {
	if e.LFS != nil {
		return e.LFS.OID
	}
	return ""
}

// Commit resolves a revision (branch, tag or commit) to its commit hash.
func (c *Client) Commit(ctx context.Context, repo, revision string) (string, error) {
	var info struct {
		SHA string `json:"sha"`
	}
	u := fmt.Sprintf("%s/api/models/%s/revision/%s", c.cfg.Endpoint, repoPath(repo), url.PathEscape(revision))
	if _, err := c.getJSON(ctx, u, repo, revision, "", &info); err != nil {
		return "", err
	}
	if info.SHA == "" {
		return "", &Error{Code: CodeBadResponse, Repo: repo, Msg: fmt.Sprintf("hub answered no commit for %s@%s", repo, revision)}
	}
	return info.SHA, nil
}

// Tree lists every file of repo at revision, following Link pagination.
func (c *Client) Tree(ctx context.Context, repo, revision string) ([]TreeEntry, error) {
	next := fmt.Sprintf("%s/api/models/%s/tree/%s?recursive=true", c.cfg.Endpoint, repoPath(repo), url.PathEscape(revision))
	var all []TreeEntry
	for pages := 0; next != ""; pages++ {
		if pages > 10000 {
			return nil, &Error{Code: CodeBadResponse, Repo: repo, Msg: "tree pagination does not end"}
		}
		var page []TreeEntry
		hdr, err := c.getJSON(ctx, next, repo, revision, "", &page)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if e.Type == "file" {
				all = append(all, e)
			}
		}
		cur := next
		next = ""
		if n := nextLink(hdr.Get("Link")); n != "" {
			base, _ := url.Parse(cur)
			ref, err := url.Parse(n)
			if err != nil {
				return nil, &Error{Code: CodeBadResponse, Repo: repo, Msg: "bad Link header " + n}
			}
			next = base.ResolveReference(ref).String()
		}
	}
	return all, nil
}

// nextLink extracts the rel="next" target of an RFC 8288 Link header.
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		return strings.Trim(strings.TrimSpace(target), "<>")
	}
	return ""
}

// getJSON GETs an API document with retries; each try is bounded by the API
// timeout.
func (c *Client) getJSON(ctx context.Context, u, repo, rev, file string, v any) (http.Header, error) {
	var hdr http.Header
	err := c.retry(ctx, repo, file, func(ctx context.Context) (int64, error) {
		actx, cancel := context.WithTimeout(ctx, c.apiTimeout)
		defer cancel()
		timedOut := func(err error) error {
			if actx.Err() != nil && ctx.Err() == nil {
				return fmt.Errorf("%s: no answer in %s: %w", redactURL(u), c.apiTimeout, ErrStalled)
			}
			return redact(err)
		}
		req, err := c.newRequest(actx, http.MethodGet, u)
		if err != nil {
			return 0, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return 0, timedOut(err)
		}
		defer resp.Body.Close()
		if err := c.checkStatus(resp, repo, rev, file); err != nil {
			return 0, err
		}
		hdr = resp.Header
		body := io.Reader(resp.Body)
		if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") { // a proxy that ignored identity
			zr, err := gzip.NewReader(body)
			if err != nil {
				return 0, timedOut(err)
			}
			body = zr
		}
		if err := json.NewDecoder(body).Decode(v); err != nil {
			return 0, fmt.Errorf("decode %s: %w", redactURL(u), timedOut(err))
		}
		return 0, nil
	})
	return hdr, err
}

// newRequest sets the headers every hub request carries. The token goes only
// to the endpoint's own origin (not to a pagination link or CDN elsewhere);
// identity encoding, because stored bytes must be the file's bytes.
func (c *Client) newRequest(ctx context.Context, method, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "rbee-hive (hfhub)")
	req.Header.Set("Accept-Encoding", "identity")
	if c.cfg.Token != "" && c.fromEndpoint(req.URL) {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	return req, nil
}

// progressReset: an attempt that advanced the file this much resets the try
// count, so a long download over a flaky link keeps going as long as it
// advances.
const progressReset = 1 << 20

// repoPath escapes ORG/NAME for a URL path, keeping the slash.
func repoPath(repo string) string {
	org, name, _ := strings.Cut(repo, "/")
	return url.PathEscape(org) + "/" + url.PathEscape(name)
}
