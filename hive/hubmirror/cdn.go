package hubmirror

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// cdn is the mirror's stand-in for the Hub's LFS CDN (cdn-lfs.hf.co,
// cas-bridge.xethub.hf.co): another origin serving presigned URLs that
// expire and that refuse any Authorization header, like S3/CloudFront do.
type cdn struct {
	base   string // scheme://host:port
	secret []byte
	ttl    time.Duration
}

// DefaultCDNAddr is where StartCDN listens by default: another loopback
// address, so the CDN is another host to the client, as on the Hub.
const DefaultCDNAddr = "127.0.0.2:0"

// StartCDN serves the mirror's LFS files as a CDN on addr (another host than
// the hub's, e.g. DefaultCDNAddr) and makes the hub redirect LFS files there
// (302 to a presigned URL valid for ttl; 0 = one hour). It returns the CDN's URL.
func (s *Server) StartCDN(addr string, ttl time.Duration) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("hub mirror CDN: listen %s: %w", addr, err)
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	c := &cdn{base: "http://" + ln.Addr().String(), secret: secret, ttl: ttl}
	srv := &http.Server{Handler: http.HandlerFunc(s.Mirror.serveCDN), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("hub mirror CDN stopped", "err", err)
		}
	}()
	s.extra = append(s.extra, srv)
	s.mu.Lock()
	s.hub.cdn = c
	s.mu.Unlock()
	return c.base, nil
}

// SetCDNBase changes the scheme://host:port presigned URLs name (another
// host name of the CDN listener, or a dead address to test failures).
func (m *Mirror) SetCDNBase(base string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hub.cdn != nil {
		c := *m.hub.cdn
		c.base = strings.TrimRight(base, "/")
		m.hub.cdn = &c
	}
}

func (c *cdn) sign(p string, expires int64) string {
	h := hmac.New(sha256.New, c.secret)
	fmt.Fprintf(h, "%s\n%d", p, expires)
	return hex.EncodeToString(h.Sum(nil))
}

// presign returns the CDN URL of an LFS file, or "" without a CDN. An armed
// ExpireURLs knob issues it already expired (for a GET: a HEAD's URL is not
// followed by clients).
func (m *Mirror) presign(r *http.Request, repo *Repo, f File, pl *plan) string {
	m.mu.Lock()
	c := m.hub.cdn
	m.mu.Unlock()
	if c == nil || !f.LFS {
		return ""
	}
	expires := time.Now().Add(c.ttl).Unix()
	if r.Method == http.MethodGet && pl.fireAt(func(s *faultState) (bool, *int) { return s.f.ExpireURLs > 0, &s.expiresLeft }) {
		expires = time.Now().Add(-time.Minute).Unix()
	}
	p := "/repos/" + repo.ID + "/" + repo.Commit + "/" + escapePath(f.Path)
	q := url.Values{"Expires": {strconv.FormatInt(expires, 10)}, "Signature": {c.sign(p, expires)}, "Key-Pair-Id": {"RBEEMIRROR"}}
	return c.base + p + "?" + q.Encode()
}

// serveCDN serves a presigned URL: Authorization is refused (400, as S3 does
// when a request carries two auth mechanisms), a bad or expired signature is
// 403, the content is served with the file's fault knobs.
func (m *Mirror) serveCDN(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	c := m.hub.cdn
	m.mu.Unlock()
	if c == nil {
		s3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if r.Header.Get("Authorization") != "" {
		s3Error(w, http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
		return
	}
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil || !hmac.Equal([]byte(q.Get("Signature")), []byte(c.sign(r.URL.EscapedPath(), expires))) {
		s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	if time.Now().Unix() > expires {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	// /repos/<org>/<name>/<commit>/<path>
	seg := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/repos/"), "/", 4)
	if len(seg) != 4 {
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	repo, err := m.hashes.scan(m.root, seg[0], seg[1])
	if err != nil || repo.Commit != seg[2] {
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	f, ok := repo.file(seg[3])
	if !ok {
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	m.sendFile(w, r, repo, f)
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>%s</Code><Message>%s</Message><RequestId>RBEEMIRROR</RequestId></Error>", code, msg)
}
