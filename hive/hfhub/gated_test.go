package hfhub_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noPartials asserts the download left no .incomplete file behind.
func noPartials(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".incomplete") {
			t.Errorf("%s was left behind", p)
		}
		return nil
	})
}

func TestGatedRepo(t *testing.T) {
	f := newFixture(t)
	f.srv.Gate(repoID, "hf_accepted")
	tests := []struct {
		name, token string
		msg, hint   []string
	}{
		{"anonymous", "", []string{"rbee-testing/tiny is a gated repo", "HTTP 401"},
			[]string{"accept the terms at " + f.srv.URL + "/" + repoID, "HF_TOKEN"}},
		{"a token whose account did not accept", "hf_other", []string{"the token from HF_TOKEN is not on its authorized list", "HTTP 403"},
			[]string{"accept the terms at " + f.srv.URL + "/" + repoID, "HF_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.srv.ResetStats()
			var diskAsked atomic.Int32
			c := hfhub.New(hfhub.Config{Endpoint: f.srv.URL, Token: tt.token, TokenFrom: "HF_TOKEN"}, hfhub.WithRetries(6, time.Millisecond),
				hfhub.WithFreeSpace(func(string) (uint64, error) { diskAsked.Add(1); return 1 << 40, nil }))
			_, err := c.Download(context.Background(), f.request())
			require.ErrorIs(t, err, hfhub.ErrGated)
			var he *hfhub.Error
			require.ErrorAs(t, err, &he)
			for _, m := range tt.msg {
				assert.Contains(t, he.Msg, m)
			}
			for _, h := range tt.hint {
				assert.Contains(t, he.Hint, h)
			}
			assert.Zero(t, diskAsked.Load(), "access is checked before the disk")
			assert.Equal(t, 1, f.srv.FileRequests(""), "one refused request, no retries of a 4xx")
			noPartials(t, f.dest)
		})
	}
	// Once the account accepts the terms, its token downloads.
	f.srv.Accept(repoID, "hf_other")
	_, err := hfhub.New(hfhub.Config{Endpoint: f.srv.URL, Token: "hf_other"}).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
}

func TestHubErrorAnswers(t *testing.T) {
	f := newFixture(t)
	// The tree lists a file the resolve endpoint no longer has.
	var fileCalls atomic.Int32
	hub := serveWith(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/resolve/"+f.commit(t)+"/tokenizer.json") {
			fileCalls.Add(1)
			w.Header().Set("X-Error-Code", "EntryNotFound")
			w.Header().Set("X-Error-Message", "Entry not found")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		f.srv.ServeHTTP(w, r)
	}))
	tests := []struct {
		name, token, repo, rev string
		want                   error
		msg, hint              string
	}{
		{"unknown repo, anonymous (401 RepoNotFound)", "", "rbee-testing/nope", "", hfhub.ErrNotFound, "model repo rbee-testing/nope not found", "set HF_TOKEN"},
		{"unknown repo with a token (404 RepoNotFound)", "hf_x", "rbee-testing/nope", "", hfhub.ErrNotFound, "model repo rbee-testing/nope not found", "the token from HF_TOKEN has no access"},
		{"unknown revision (RevisionNotFound)", "", repoID, "v9", hfhub.ErrNotFound, `revision "v9" of rbee-testing/tiny not found`, "--revision"},
		{"a listed file the hub lacks (EntryNotFound)", "", repoID, "", hfhub.ErrNotFound, "file tokenizer.json of rbee-testing/tiny not found", "--include"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fileCalls.Store(0)
			c := hfhub.New(hfhub.Config{Endpoint: hub, Token: tt.token, TokenFrom: "HF_TOKEN"}, hfhub.WithRetries(6, time.Millisecond))
			req := f.request()
			req.Repo, req.Revision = tt.repo, tt.rev
			_, err := c.Download(context.Background(), req)
			require.ErrorIs(t, err, tt.want)
			var he *hfhub.Error
			require.ErrorAs(t, err, &he)
			assert.Contains(t, he.Msg, tt.msg)
			assert.Contains(t, he.Hint, tt.hint)
			assert.LessOrEqual(t, fileCalls.Load(), int32(1), "a 4xx is not retried")
			noPartials(t, f.dest)
		})
	}
}

func TestRenamedRepoAndRelativeRedirectsKeepTheToken(t *testing.T) {
	f := newFixture(t)
	f.srv.SetToken("hf_secret")
	f.srv.Rename("rbee-testing/old-name", repoID)
	f.srv.SetResolveCache(true)
	req := f.request()
	req.Repo = "rbee-testing/old-name"
	res, err := hfhub.New(hfhub.Config{Endpoint: f.srv.URL, Token: "hf_secret"}).Download(context.Background(), req)
	require.NoError(t, err, "every same-origin 307 kept Authorization")
	f.requireDownloaded(t)
	assert.Equal(t, f.commit(t), res.Commit)
}

func TestRevisionNames(t *testing.T) {
	f := newFixture(t)
	f.srv.SetRefs(repoID, "v1.0", "dev", "refs/pr/1")
	for _, rev := range []string{"v1.0", "dev", "refs/pr/1"} {
		t.Run(rev, func(t *testing.T) {
			req := f.request()
			req.Revision = rev
			res, err := f.client(t).Download(context.Background(), req)
			require.NoError(t, err)
			assert.Equal(t, rev, res.Revision)
			assert.Equal(t, f.commit(t), res.Commit)
		})
	}
}

func TestPaginationToAnotherHostGetsNoToken(t *testing.T) {
	f := newFixture(t, hubmirror.WithPageSize(1))
	var otherAuth atomic.Int32
	var otherCalls atomic.Int32
	other := serveOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherCalls.Add(1)
		if r.Header.Get("Authorization") != "" {
			otherAuth.Add(1)
		}
		f.srv.ServeHTTP(w, r)
	}))
	f.srv.SetPageBase(other)
	_, err := hfhub.New(hfhub.Config{Endpoint: f.srv.URL, Token: "hf_secret"}).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Positive(t, otherCalls.Load(), "the pages were followed to the other host")
	assert.Zero(t, otherAuth.Load(), "the token stays with the endpoint")
}
