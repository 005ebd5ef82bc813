package hubmirror_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noFollow does one request without following redirects.
func noFollow(t *testing.T, method, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestCDN(t *testing.T) {
	s, body := newRepo(t)
	cdn, err := s.StartCDN(hubmirror.DefaultCDNAddr, 0)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(cdn, "http://127.0.0.2:"))
	resp, _ := noFollow(t, "GET", s.URL+"/rbee-testing/tiny/resolve/main/model.safetensors", nil)
	require.Equal(t, http.StatusFound, resp.StatusCode, "LFS files are redirected")
	loc := resp.Header.Get("Location")
	assert.True(t, strings.HasPrefix(loc, cdn+"/repos/rbee-testing/tiny/"))
	assert.Contains(t, loc, "Signature=")
	assert.NotEmpty(t, resp.Header.Get("X-Linked-Etag"))
	resp, _ = noFollow(t, "GET", s.URL+"/rbee-testing/tiny/resolve/main/config.json", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "small files are not")

	resp, b := noFollow(t, "GET", loc, map[string]string{"Range": "bytes=10-19"})
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, body[10:20], b)
	resp, b = noFollow(t, "GET", loc, map[string]string{"Authorization": "Bearer hf_x"})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(b), "<Code>InvalidArgument</Code><Message>Only one auth mechanism allowed")
	resp, b = noFollow(t, "GET", strings.Replace(loc, "Signature=", "Signature=00", 1), nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, string(b), "SignatureDoesNotMatch")

	s.SetFaults(weights, hubmirror.Faults{ExpireURLs: 1})
	resp, _ = noFollow(t, "GET", s.URL+"/rbee-testing/tiny/resolve/main/model.safetensors", nil)
	resp, b = noFollow(t, "GET", resp.Header.Get("Location"), nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, string(b), "<Message>Request has expired</Message>")

	s.SetXet(true)
	resp, _ = noFollow(t, "GET", s.URL+"/rbee-testing/tiny/resolve/main/model.safetensors", nil)
	assert.NotEmpty(t, resp.Header.Get("X-Xet-Hash"))
	assert.Contains(t, resp.Header.Get("Link"), `rel="xet-auth"`)
}

func TestRealHubAnswers(t *testing.T) {
	s, _ := newRepo(t)
	s.Gate("rbee-testing/tiny", "hf_ok")
	s.Rename("rbee-testing/old", "rbee-testing/tiny")
	s.SetResolveCache(true)
	s.SetRefs("rbee-testing/tiny", "v1", "refs/pr/1")
	tests := []struct {
		name        string
		path        string
		hdr         map[string]string
		status      int
		code, msg   string
		location    string
		ratelimited bool
	}{
		{"gated, anonymous", "/rbee-testing/tiny/resolve/main/config.json", nil, 401, "GatedRepo", "You must have access to it and be authenticated", "", false},
		{"gated, not accepted", "/rbee-testing/tiny/resolve/main/config.json", map[string]string{"Authorization": "Bearer hf_no"}, 403, "GatedRepo", "you are not in the authorized list. Visit " + s.URL + "/rbee-testing/tiny", "", false},
		{"gated, accepted: a relative 307", "/rbee-testing/tiny/resolve/main/config.json", map[string]string{"Authorization": "Bearer hf_ok"}, 307, "", "", "/api/resolve-cache/models/rbee-testing/tiny/", false},
		{"gated repos list their files", "/api/models/rbee-testing/tiny/tree/main", nil, 200, "", "", "", false},
		{"unknown repo, anonymous", "/api/models/rbee-testing/nope/revision/main", nil, 401, "RepoNotFound", "Invalid username or password.", "", false},
		{"unknown repo, with a token", "/api/models/rbee-testing/nope/revision/main", map[string]string{"Authorization": "Bearer hf_ok"}, 404, "RepoNotFound", "Repository not found", "", false},
		{"renamed repo", "/api/models/rbee-testing/old/revision/main", nil, 307, "", "", "/api/models/rbee-testing/tiny/revision/main", false},
		{"a tag", "/api/models/rbee-testing/tiny/revision/v1", nil, 200, "", "", "", false},
		{"a pull request ref", "/api/models/rbee-testing/tiny/revision/refs%2Fpr%2F1", nil, 200, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := noFollow(t, "GET", s.URL+tt.path, tt.hdr)
			assert.Equal(t, tt.status, resp.StatusCode, string(b))
			assert.Equal(t, tt.code, resp.Header.Get("X-Error-Code"))
			assert.Contains(t, resp.Header.Get("X-Error-Message"), tt.msg)
			assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), tt.location), resp.Header.Get("Location"))
		})
	}
}

func TestRateLimitStallAndGzipKnobs(t *testing.T) {
	s, body := newRepo(t)
	s.SetFaults("", hubmirror.Faults{RateLimit: 1, RateLimitWait: 42})
	resp, b := noFollow(t, "GET", s.URL+"/api/models/rbee-testing/tiny/revision/main", nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, `"resolvers";r=0;t=42`, resp.Header.Get("RateLimit"))
	assert.Contains(t, resp.Header.Get("RateLimit-Policy"), "w=300")
	assert.Contains(t, string(b), "rate-limited")
	resp, _ = noFollow(t, "GET", s.URL+"/api/models/rbee-testing/tiny/revision/main", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "once")

	s.SetFaults("", hubmirror.Faults{StallAPIFor: 300 * time.Millisecond, StallAPITimes: 1})
	start := time.Now()
	noFollow(t, "GET", s.URL+"/api/models/rbee-testing/tiny/revision/main", nil)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)

	s.SetFaults(weights, hubmirror.Faults{Gzip: true})
	resp, raw := noFollow(t, "GET", s.URL+"/rbee-testing/tiny/resolve/main/model.safetensors", nil)
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), "no Accept-Encoding allows any")
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, body, plain)
	resp, raw = noFollow(t, "GET", s.URL+"/rbee-testing/tiny/resolve/main/model.safetensors", map[string]string{"Accept-Encoding": "identity"})
	assert.Empty(t, resp.Header.Get("Content-Encoding"))
	assert.Equal(t, body, raw)
}
