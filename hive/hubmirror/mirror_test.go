package hubmirror_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const weights = "rbee-testing/tiny/model.safetensors"

// newRepo writes a small repo under a temp dir and serves it.
func newRepo(t *testing.T, opts ...hubmirror.Option) (*hubmirror.Server, []byte) {
	t.Helper()
	dir := t.TempDir()
	repo := filepath.Join(dir, "rbee-testing", "tiny")
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "sub"), 0o755))
	body := make([]byte, 300_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	require.NoError(t, os.WriteFile(filepath.Join(repo, "model.safetensors"), body, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "config.json"), []byte(`{"a":1}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "sub", "tokenizer.json"), []byte(`{}`), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(repo, ".git"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, ".git", "HEAD"), []byte("x"), 0o644))
	s, err := hubmirror.Start(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, body
}

func get(t *testing.T, s *hubmirror.Server, method, path string, hdr map[string]string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// A fresh transport per request: a cut connection must not be reused.
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestRevisionAndTree(t *testing.T) {
	s, body := newRepo(t)
	resp, b, err := get(t, s, "GET", "/api/models/rbee-testing/tiny/revision/main", nil)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	var info struct {
		ID       string `json:"id"`
		SHA      string `json:"sha"`
		Siblings []struct {
			RFilename string `json:"rfilename"`
		} `json:"siblings"`
	}
	require.NoError(t, json.Unmarshal(b, &info))
	assert.Equal(t, "rbee-testing/tiny", info.ID)
	assert.Len(t, info.SHA, 40)
	assert.Len(t, info.Siblings, 3, "hidden .git content is not part of the repo")

	// The commit is stable and reachable as a revision itself.
	resp, b2, err := get(t, s, "GET", "/api/models/rbee-testing/tiny/revision/"+info.SHA, nil)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(b2), info.SHA)

	resp, b, err = get(t, s, "GET", "/api/models/rbee-testing/tiny/tree/main?recursive=true", nil)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	var tree []struct {
		Type string `json:"type"`
		Path string `json:"path"`
		Size int64  `json:"size"`
		OID  string `json:"oid"`
		LFS  *struct {
			OID         string `json:"oid"`
			Size        int64  `json:"size"`
			PointerSize int    `json:"pointerSize"`
		} `json:"lfs"`
	}
	require.NoError(t, json.Unmarshal(b, &tree))
	var paths []string
	for _, e := range tree {
		paths = append(paths, e.Type+":"+e.Path)
		if e.Path == "model.safetensors" {
			sum := sha256.Sum256(body)
			require.NotNil(t, e.LFS)
			assert.Equal(t, hex.EncodeToString(sum[:]), e.LFS.OID)
			assert.Equal(t, int64(len(body)), e.LFS.Size)
			assert.Positive(t, e.LFS.PointerSize)
		}
		if e.Path == "config.json" {
			assert.Nil(t, e.LFS)
			// git blob id of `{"a":1}` (git hash-object).
			assert.Equal(t, "daa5053ecf5f9a37b2de733d0751cc1ab53ac010", e.OID)
		}
	}
	assert.Equal(t, []string{"file:config.json", "file:model.safetensors", "directory:sub", "file:sub/tokenizer.json"}, paths)
}

func TestTreePagination(t *testing.T) {
	s, _ := newRepo(t, hubmirror.WithPageSize(2))
	var all []string
	next := s.URL + "/api/models/rbee-testing/tiny/tree/main?recursive=true"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 5)
		resp, err := http.Get(next)
		require.NoError(t, err)
		var page []struct{ Path string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
		resp.Body.Close()
		for _, e := range page {
			all = append(all, e.Path)
		}
		next = ""
		if l := resp.Header.Get("Link"); l != "" {
			require.Contains(t, l, `rel="next"`)
			next = strings.TrimPrefix(strings.SplitN(l, ">", 2)[0], "<")
		}
	}
	assert.Equal(t, []string{"config.json", "model.safetensors", "sub", "sub/tokenizer.json"}, all)
}

func TestResolve(t *testing.T) {
	s, body := newRepo(t)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	path := "/rbee-testing/tiny/resolve/main/model.safetensors"
	tests := []struct {
		name, method, rng string
		status            int
		want              []byte
		contentRange      string
	}{
		{"full", "GET", "", 200, body, ""},
		{"head", "HEAD", "", 200, nil, ""},
		{"range", "GET", "bytes=1000-", 206, body[1000:], fmt.Sprintf("bytes 1000-%d/%d", len(body)-1, len(body))},
		{"closed range", "GET", "bytes=10-19", 206, body[10:20], fmt.Sprintf("bytes 10-19/%d", len(body))},
		{"unsatisfiable", "GET", fmt.Sprintf("bytes=%d-", len(body)+5), 416, nil, fmt.Sprintf("bytes */%d", len(body))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.rng != "" {
				hdr["Range"] = tt.rng
			}
			resp, b, err := get(t, s, tt.method, path, hdr)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode)
			if tt.want != nil {
				assert.Equal(t, tt.want, b)
			}
			assert.Equal(t, tt.contentRange, resp.Header.Get("Content-Range"))
			if tt.status != 416 {
				assert.Equal(t, etag, resp.Header.Get("ETag"))
				assert.Equal(t, etag, resp.Header.Get("X-Linked-Etag"))
				assert.Equal(t, fmt.Sprint(len(body)), resp.Header.Get("X-Linked-Size"))
				assert.Len(t, resp.Header.Get("X-Repo-Commit"), 40)
			}
			if tt.method == "HEAD" {
				assert.Equal(t, fmt.Sprint(len(body)), resp.Header.Get("Content-Length"))
			}
		})
	}
}

func TestNotFoundAndAuth(t *testing.T) {
	s, _ := newRepo(t, hubmirror.WithToken("sekrit"))
	auth := map[string]string{"Authorization": "Bearer sekrit"}
	tests := []struct {
		name, path string
		hdr        map[string]string
		status     int
		code, body string
	}{
		{"no token", "/api/models/rbee-testing/tiny/revision/main", nil, 401, "", "must be authenticated"},
		{"wrong token", "/rbee-testing/tiny/resolve/main/config.json", map[string]string{"Authorization": "Bearer nope"}, 401, "", "Invalid credentials"},
		{"good token", "/rbee-testing/tiny/resolve/main/config.json", auth, 200, "", `{"a":1}`},
		{"unknown repo", "/api/models/rbee-testing/nope/revision/main", auth, 404, "RepoNotFound", "Repository not found"},
		{"unknown repo file", "/rbee-testing/nope/resolve/main/config.json", auth, 404, "RepoNotFound", "Repository not found"},
		{"unknown file", "/rbee-testing/tiny/resolve/main/nope.bin", auth, 404, "EntryNotFound", "does not exist"},
		{"unknown revision", "/api/models/rbee-testing/tiny/tree/v9?recursive=true", auth, 404, "RevisionNotFound", "Invalid rev id: v9"},
		{"traversal", "/api/models/rbee-testing/..%2F..%2Fetc/revision/main", auth, 404, "RepoNotFound", "Repository not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b, err := get(t, s, "GET", tt.path, tt.hdr)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.code, resp.Header.Get("X-Error-Code"))
			assert.Contains(t, string(b), tt.body)
		})
	}
}

func TestFaults(t *testing.T) {
	path := "/rbee-testing/tiny/resolve/main/model.safetensors"
	tests := []struct {
		name   string
		target string
		faults hubmirror.Faults
		rng    string
		// check inspects the first and the second response.
		check func(t *testing.T, body []byte, first, second result)
	}{
		{"cut once", weights, hubmirror.Faults{CutAfter: 100_000, CutTimes: 1}, "", func(t *testing.T, body []byte, first, second result) {
			require.Error(t, first.err, "the connection is cut mid-body")
			assert.Len(t, first.body, 100_000)
			require.NoError(t, second.err)
			assert.Equal(t, body, second.body)
		}},
		{"cut every time, global", "", hubmirror.Faults{CutAfter: 5}, "", func(t *testing.T, body []byte, first, second result) {
			require.Error(t, first.err)
			require.Error(t, second.err)
		}},
		{"corrupt once", weights, hubmirror.Faults{Corrupt: true, CorruptAt: 12345, CorruptTimes: 1}, "", func(t *testing.T, body []byte, first, second result) {
			require.NoError(t, first.err)
			require.Len(t, first.body, len(body))
			assert.Equal(t, body[12345]^0xff, first.body[12345])
			assert.Equal(t, body[:12345], first.body[:12345])
			assert.Equal(t, body[12346:], first.body[12346:])
			assert.Equal(t, body, second.body)
		}},
		{"corrupt inside a range", weights, hubmirror.Faults{Corrupt: true, CorruptAt: 200_000}, "bytes=150000-", func(t *testing.T, body []byte, first, second result) {
			require.Equal(t, 206, first.status)
			assert.Equal(t, body[200_000]^0xff, first.body[50_000], "the offset is a file offset")
		}},
		{"stall", weights, hubmirror.Faults{StallAfter: 1000, StallFor: 300 * time.Millisecond, StallTimes: 1}, "", func(t *testing.T, body []byte, first, second result) {
			assert.GreaterOrEqual(t, first.took, 300*time.Millisecond)
			assert.Equal(t, body, first.body)
			assert.Less(t, second.took, 300*time.Millisecond)
		}},
		{"5xx twice then ok", weights, hubmirror.Faults{FailFirst: 1, FailStatus: 502}, "", func(t *testing.T, body []byte, first, second result) {
			assert.Equal(t, 502, first.status)
			assert.Equal(t, 200, second.status)
		}},
		{"5xx global also hits the API", "", hubmirror.Faults{FailFirst: 1}, "", func(t *testing.T, body []byte, first, second result) {
			assert.Equal(t, 503, first.status)
			assert.Equal(t, 200, second.status)
		}},
		{"ignore range", weights, hubmirror.Faults{IgnoreRange: true}, "bytes=1000-", func(t *testing.T, body []byte, first, second result) {
			assert.Equal(t, 200, first.status)
			assert.Equal(t, body, first.body)
			assert.Empty(t, first.contentRange)
		}},
		{"no faults: range honoured", "other/file", hubmirror.Faults{IgnoreRange: true, CutAfter: 1}, "bytes=1000-", func(t *testing.T, body []byte, first, second result) {
			assert.Equal(t, 206, first.status)
			assert.Equal(t, body[1000:], first.body)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, body := newRepo(t)
			s.SetFaults(tt.target, tt.faults)
			do := func() result {
				hdr := map[string]string{}
				if tt.rng != "" {
					hdr["Range"] = tt.rng
				}
				start := time.Now()
				resp, b, err := get(t, s, "GET", path, hdr)
				r := result{body: b, err: err, took: time.Since(start)}
				if resp != nil {
					r.status, r.contentRange = resp.StatusCode, resp.Header.Get("Content-Range")
				}
				return r
			}
			first := do()
			second := do()
			tt.check(t, body, first, second)
		})
	}
}

type result struct {
	status       int
	contentRange string
	body         []byte
	err          error
	took         time.Duration
}

func TestBytesServed(t *testing.T) {
	s, body := newRepo(t)
	s.SetFaults(weights, hubmirror.Faults{CutAfter: 1000, CutTimes: 1})
	_, _, err := get(t, s, "GET", "/rbee-testing/tiny/resolve/main/model.safetensors", nil)
	require.Error(t, err)
	_, b, err := get(t, s, "GET", "/rbee-testing/tiny/resolve/main/model.safetensors", map[string]string{"Range": "bytes=1000-"})
	require.NoError(t, err)
	assert.Equal(t, body[1000:], b)
	assert.Equal(t, int64(len(body)), s.BytesServed(weights), "cut part + resumed part = the file once")
	assert.Equal(t, 2, s.FileRequests(weights))
	s.ResetStats()
	assert.Zero(t, s.BytesServed(""))
}

func TestPointerFile(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "org", "huge")
	require.NoError(t, os.MkdirAll(repo, 0o755))
	sha := strings.Repeat("ab", 32)
	require.NoError(t, hubmirror.WritePointer(filepath.Join(repo, "model.safetensors"), sha, 1<<50))
	s, err := hubmirror.Start(dir)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	_, b, err := get(t, s, "GET", "/api/models/org/huge/tree/main?recursive=true", nil)
	require.NoError(t, err)
	assert.Contains(t, string(b), fmt.Sprintf(`"size":%d`, int64(1<<50)))
	assert.Contains(t, string(b), sha)
	resp, _, err := get(t, s, "GET", "/org/huge/resolve/main/model.safetensors", nil)
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode)
}

func TestHashesCachedAndCommitFollowsContent(t *testing.T) {
	s, _ := newRepo(t)
	r1, err := s.Repo("rbee-testing/tiny")
	require.NoError(t, err)
	r2, err := s.Repo("rbee-testing/tiny")
	require.NoError(t, err)
	assert.Equal(t, r1.Commit, r2.Commit)
	p := filepath.Join(s.Dir(), "rbee-testing", "tiny", "config.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"a":2}`), 0o644))
	require.NoError(t, os.Chtimes(p, time.Now().Add(time.Hour), time.Now().Add(time.Hour)))
	r3, err := s.Repo("rbee-testing/tiny")
	require.NoError(t, err)
	assert.NotEqual(t, r1.Commit, r3.Commit)
}
