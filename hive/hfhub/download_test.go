package hfhub_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/internal/syncio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const weightsPath = repoID + "/model.safetensors"

func TestDownloadFreshThenNoop(t *testing.T) {
	f := newFixture(t)
	out := &syncio.Buffer{}
	res, err := f.client(t, hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.False(t, res.AlreadyComplete())
	require.Len(t, res.Files, 3)
	assert.Equal(t, "model.safetensors", res.Files[0].Name, "largest first")
	sum := sha256.Sum256(f.files["model.safetensors"])
	assert.Equal(t, hex.EncodeToString(sum[:]), res.Files[0].SHA256)
	for _, fr := range res.Files {
		sum := sha256.Sum256(f.files[fr.Name])
		assert.Equal(t, hex.EncodeToString(sum[:]), fr.SHA256, fr.Name)
		assert.Equal(t, int64(len(f.files[fr.Name])), fr.Size)
	}
	repo, err := f.srv.Repo(repoID)
	require.NoError(t, err)
	assert.Equal(t, repo.Commit, res.Commit)
	assert.Equal(t, res.Bytes, res.Fetched)
	assert.Contains(t, out.String(), "fetching model.safetensors (2.0 MiB)")
	assert.Contains(t, out.String(), "verified model.safetensors (2.0 MiB, sha256 "+res.Files[0].SHA256[:12])

	// The second run moves no file byte and says nothing was needed.
	f.srv.ResetStats()
	res2, err := f.client(t).Download(context.Background(), f.request())
	require.NoError(t, err)
	assert.True(t, res2.AlreadyComplete())
	assert.Zero(t, res2.Fetched)
	assert.Zero(t, f.srv.FileRequests(""))
	assert.Equal(t, res.Files[0].SHA256, res2.Files[0].SHA256)

	// Files copied in by hand (no record) are verified by hashing, not refetched.
	require.NoError(t, os.RemoveAll(filepath.Join(f.dest, ".cache")))
	res3, err := f.client(t).Download(context.Background(), f.request())
	require.NoError(t, err)
	assert.True(t, res3.AlreadyComplete())
	assert.Zero(t, f.srv.FileRequests(""))

	// A file changed on disk is noticed and fetched again.
	require.NoError(t, os.WriteFile(filepath.Join(f.dest, "config.json"), []byte(`{"hidden_size":65,"architectures":["LlamaForCausalLM"]}`), 0o644))
	res4, err := f.client(t).Download(context.Background(), f.request())
	require.NoError(t, err)
	assert.False(t, res4.AlreadyComplete())
	f.requireDownloaded(t)
	assert.Equal(t, 2, f.srv.FileRequests(repoID+"/config.json"), "a HEAD checking access, then the GET")
	assert.Equal(t, 2, f.srv.FileRequests(""))
}

func TestResume(t *testing.T) {
	size := int64(2 << 20)
	tests := []struct {
		name    string
		faults  hubmirror.Faults
		maxSent int64 // total body bytes the mirror may send for the file
		reqs    int
	}{
		{"cut at half resumes with 206", hubmirror.Faults{CutAfter: size / 2, CutTimes: 1}, size + size/100, 2},
		{"cut twice", hubmirror.Faults{CutAfter: size / 3, CutTimes: 2}, size + size/100, 3},
		{"server ignoring Range restarts from 0", hubmirror.Faults{CutAfter: size / 2, CutTimes: 1, IgnoreRange: true}, size + size/2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.SetFaults(weightsPath, tt.faults)
			out := &syncio.Buffer{}
			res, err := f.client(t, hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
			require.NoError(t, err)
			f.requireDownloaded(t)
			assert.LessOrEqual(t, f.srv.BytesServed(weightsPath), tt.maxSent)
			assert.Equal(t, tt.reqs, f.srv.FileRequests(weightsPath))
			assert.Equal(t, f.srv.BytesServed(""), res.Fetched, "result counts what crossed the wire")
			assert.Contains(t, out.String(), "retrying model.safetensors")
		})
	}
}

func TestInterruptedRunContinuesOnRerun(t *testing.T) {
	f := newFixture(t)
	size := int64(len(f.files["model.safetensors"]))
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: size / 2})
	_, err := f.client(t, hfhub.WithRetries(1, time.Millisecond)).Download(context.Background(), f.request())
	require.ErrorIs(t, err, hfhub.ErrUnavailable)
	assert.Contains(t, err.Error(), "model.safetensors of rbee-testing/tiny")
	st, err := os.Stat(filepath.Join(f.dest, "model.safetensors.incomplete"))
	require.NoError(t, err)
	assert.Equal(t, size/2, st.Size(), "the bytes received are kept")
	_, err = os.Stat(filepath.Join(f.dest, "model.safetensors"))
	assert.True(t, os.IsNotExist(err))

	f.srv.ClearFaults()
	res, err := f.client(t).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Less(t, float64(f.srv.BytesServed(weightsPath)), 1.01*float64(size))
	assert.Equal(t, size-size/2, res.Files[0].Fetched)
}

func TestChecksumMismatch(t *testing.T) {
	tests := []struct {
		name   string
		target string
		faults hubmirror.Faults
		ok     bool
	}{
		{"lfs file corrupted once is refetched", weightsPath, hubmirror.Faults{Corrupt: true, CorruptAt: 1 << 20, CorruptTimes: 1}, true},
		{"json corrupted once is caught by its git blob id", repoID + "/config.json", hubmirror.Faults{Corrupt: true, CorruptAt: 3, CorruptTimes: 1}, true},
		{"always corrupted fails", weightsPath, hubmirror.Faults{Corrupt: true, CorruptAt: 5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.SetFaults(tt.target, tt.faults)
			out := &syncio.Buffer{}
			_, err := f.client(t, hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
			assert.Contains(t, out.String(), "checksum mismatch")
			if tt.ok {
				require.NoError(t, err)
				f.requireDownloaded(t)
				return
			}
			require.ErrorIs(t, err, hfhub.ErrUnavailable)
			require.ErrorIs(t, err, hfhub.ErrChecksumMismatch)
			name := strings.TrimPrefix(tt.target, repoID+"/")
			for _, p := range []string{name, name + ".incomplete"} {
				_, err := os.Stat(filepath.Join(f.dest, p))
				assert.True(t, os.IsNotExist(err), "%s must not exist", p)
			}
		})
	}
}

func TestStallAndServerErrors(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		faults  hubmirror.Faults
		wantErr error
		log     string
	}{
		{"stall is abandoned and retried", weightsPath, hubmirror.Faults{StallAfter: 4096, StallFor: time.Minute, StallTimes: 1}, nil, "no data for 200ms"},
		{"5xx on every endpoint, retried", "", hubmirror.Faults{FailFirst: 4, FailStatus: 502}, nil, "HTTP 502"},
		{"5xx on the file, retried", weightsPath, hubmirror.Faults{FailFirst: 5}, nil, "HTTP 503"},
		{"5xx beyond the tries", weightsPath, hubmirror.Faults{FailFirst: 6}, hfhub.ErrUnavailable, "try 6 of 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.SetFaults(tt.target, tt.faults)
			out := &syncio.Buffer{}
			start := time.Now()
			_, err := f.client(t, hfhub.WithProgress(hfhub.NewLines(out, 0)), hfhub.WithStallTimeout(200*time.Millisecond)).
				Download(context.Background(), f.request())
			assert.Less(t, time.Since(start), 20*time.Second)
			assert.Contains(t, out.String(), tt.log)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			f.requireDownloaded(t)
		})
	}
}

func TestHubErrors(t *testing.T) {
	tests := []struct {
		name      string
		token     string // the client's
		repo, rev string
		want      error
		msg, hint string
	}{
		{"unknown repo", "sekrit", "rbee-testing/nope", "", hfhub.ErrNotFound, "model repo rbee-testing/nope not found on the hub (http://", "catalog"},
		{"unknown revision", "sekrit", repoID, "v9", hfhub.ErrNotFound, `revision "v9" of rbee-testing/tiny not found on the hub`, "--revision"},
		{"no token", "", repoID, "", hfhub.ErrAccessDenied, "access denied to rbee-testing/tiny on the hub", "set HF_TOKEN"},
		{"wrong token", "nope", repoID, "", hfhub.ErrAccessDenied, "Invalid credentials", "was refused"},
	}
	f := newFixture(t, hubmirror.WithToken("sekrit"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hfhub.New(hfhub.Config{Endpoint: f.srv.URL, Token: tt.token, TokenFrom: "HF_TOKEN"}, hfhub.WithRetries(6, time.Millisecond))
			req := f.request()
			req.Repo, req.Revision = tt.repo, tt.rev
			_, err := c.Download(context.Background(), req)
			require.ErrorIs(t, err, tt.want)
			var he *hfhub.Error
			require.ErrorAs(t, err, &he)
			assert.Contains(t, he.Msg, tt.msg)
			assert.Contains(t, he.Hint, tt.hint)
			assert.Zero(t, f.srv.FileRequests(""), "no file is fetched")
		})
	}
	// With the right token everything downloads.
	_, err := f.client(t).Download(context.Background(), f.request())
	require.ErrorIs(t, err, hfhub.ErrAccessDenied)
	_, err = hfhub.New(hfhub.Config{Endpoint: f.srv.URL, Token: "sekrit"}).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
}

func TestDiskSpaceRefusal(t *testing.T) {
	t.Run("the real free space is smaller than the model", func(t *testing.T) {
		root := t.TempDir()
		dir := filepath.Join(root, "rbee-testing", "huge")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		// 1 PiB: larger than any disk this runs on; the pointer has no content.
		require.NoError(t, hubmirror.WritePointer(filepath.Join(dir, "model.safetensors"), strings.Repeat("0f", 32), 1<<50))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{}`), 0o644))
		srv, err := hubmirror.Start(root)
		require.NoError(t, err)
		t.Cleanup(func() { srv.Close() })
		dest := filepath.Join(t.TempDir(), "huge")
		_, err = hfhub.New(hfhub.Config{Endpoint: srv.URL}).Download(context.Background(), hfhub.Request{Repo: "rbee-testing/huge", Dir: dest})
		require.ErrorIs(t, err, hfhub.ErrInsufficientDisk)
		assert.Contains(t, err.Error(), "not enough disk space for rbee-testing/huge in "+dest+": need 1.0 PiB more")
		assert.Zero(t, srv.BytesServed(""), "refused before fetching anything")
		assert.Equal(t, 1, srv.FileRequests("rbee-testing/huge/config.json"), "only the access check (HEAD) asked for a file")
		assert.NoFileExists(t, filepath.Join(dest, "model.safetensors.incomplete"))
	})
	t.Run("the probe counts only what is still missing", func(t *testing.T) {
		f := newFixture(t)
		size := int64(len(f.files["model.safetensors"]))
		f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: size / 2})
		_, err := f.client(t, hfhub.WithRetries(1, time.Millisecond)).Download(context.Background(), f.request())
		require.Error(t, err)
		f.srv.ClearFaults()
		var asked atomic.Int64
		probe := func(string) (uint64, error) { return uint64(size), nil }
		// Half the weights plus the small files fit in `size` bytes.
		_, err = f.client(t, hfhub.WithFreeSpace(func(d string) (uint64, error) { asked.Add(1); return probe(d) })).Download(context.Background(), f.request())
		require.NoError(t, err)
		assert.Equal(t, int64(1), asked.Load())
		f.requireDownloaded(t)
	})
}

func TestNeverDeletesVerifiedFile(t *testing.T) {
	f := newFixture(t)
	_, err := f.client(t).Download(context.Background(), f.request())
	require.NoError(t, err)
	old := f.files["model.safetensors"]
	// The hub gets a new version of the weights, but every transfer breaks.
	p := filepath.Join(f.srv.Dir(), repoID, "model.safetensors")
	require.NoError(t, os.WriteFile(p, randomBytes(len(old), 99), 0o644))
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: 1000})
	_, err = f.client(t, hfhub.WithRetries(2, time.Millisecond)).Download(context.Background(), f.request())
	require.ErrorIs(t, err, hfhub.ErrUnavailable)
	got, err := os.ReadFile(filepath.Join(f.dest, "model.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, old, got, "the verified file stays until its replacement is verified")
}

func TestParallelFilesAndPagination(t *testing.T) {
	files := map[string][]byte{}
	for i := range 8 {
		files["model-0000"+string(rune('1'+i))+"-of-00008.safetensors"] = randomBytes(256<<10, uint64(i))
	}
	files["config.json"] = []byte(`{}`)
	f := newFixtureFiles(t, files, hubmirror.WithPageSize(3))
	// Every file response stalls a little so transfers overlap; count the
	// requests in flight through a wrapper around the mirror.
	f.srv.SetFaults("", hubmirror.Faults{StallAfter: 1, StallFor: 150 * time.Millisecond})
	var inflight, peak atomic.Int32
	wrap := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		f.srv.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: wrap}
	ln := listen(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c := hfhub.New(hfhub.Config{Endpoint: "http://" + ln.Addr().String()}, hfhub.WithParallel(3))
	res, err := c.Download(context.Background(), f.request())
	require.NoError(t, err)
	require.Len(t, res.Files, 9, "all tree pages were followed")
	f.requireDownloaded(t)
	assert.Equal(t, int32(3), peak.Load(), "at most 3 files at once, and really 3")
}

func TestCancel(t *testing.T) {
	f := newFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{StallAfter: 1 << 20, StallFor: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.client(t).Download(ctx, f.request())
	require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	assert.Less(t, time.Since(start), 5*time.Second)
	st, err := os.Stat(filepath.Join(f.dest, "model.safetensors.incomplete"))
	require.NoError(t, err)
	assert.Equal(t, int64(1<<20), st.Size(), "bytes received before the cancel are kept")
}

func TestConcurrentDownloadsOfOneFolder(t *testing.T) {
	f := newFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{StallAfter: 1 << 20, StallFor: time.Second, StallTimes: 1})
	first := make(chan error, 1)
	go func() {
		_, err := f.client(t).Download(context.Background(), f.request())
		first <- err
	}()
	// Wait until the first download is inside the transfer.
	require.Eventually(t, func() bool {
		st, err := os.Stat(filepath.Join(f.dest, "model.safetensors.incomplete"))
		return err == nil && st.Size() > 0
	}, 10*time.Second, 5*time.Millisecond)
	_, err := f.client(t).Download(context.Background(), f.request())
	require.ErrorIs(t, err, hfhub.ErrBusy)
	assert.Contains(t, err.Error(), "another download into "+f.dest+" is running")
	require.NoError(t, <-first)
	f.requireDownloaded(t)
}

// The hub redirects LFS files to a CDN on another host: the client follows,
// keeps Range, and does not send the hub token there.
func TestRedirectToCDN(t *testing.T) {
	f := newFixture(t)
	var cdnAuth, cdnRange atomic.Value
	cdnAuth.Store("")
	cdnRange.Store("")
	cdn := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnAuth.Store(r.Header.Get("Authorization"))
		if rg := r.Header.Get("Range"); rg != "" {
			cdnRange.Store(rg)
		}
		f.srv.ServeHTTP(w, r)
	})}
	cdnLn := listen(t)
	go cdn.Serve(cdnLn)
	t.Cleanup(func() { cdn.Close() })
	// "localhost" vs "127.0.0.1": a different host for the client.
	cdnURL := "http://localhost:" + strings.TrimPrefix(cdnLn.Addr().String(), "127.0.0.1:")
	hub := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/resolve/") && strings.HasSuffix(r.URL.Path, ".safetensors") {
			http.Redirect(w, r, cdnURL+r.URL.Path, http.StatusFound)
			return
		}
		f.srv.ServeHTTP(w, r)
	})}
	hubLn := listen(t)
	go hub.Serve(hubLn)
	t.Cleanup(func() { hub.Close() })
	size := int64(len(f.files["model.safetensors"]))
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: size / 2, CutTimes: 1})
	c := hfhub.New(hfhub.Config{Endpoint: "http://" + hubLn.Addr().String(), Token: "hf_secret"}, hfhub.WithRetries(6, time.Millisecond))
	_, err := c.Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Empty(t, cdnAuth.Load(), "the hub token stays with the hub")
	assert.Equal(t, fmt.Sprintf("bytes=%d-", size/2), cdnRange.Load(), "the resume Range survives the redirect")
}

func TestProgressBar(t *testing.T) {
	f := newFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: 1 << 20, CutTimes: 1})
	out := &syncio.Buffer{}
	_, err := f.client(t, hfhub.WithProgress(hfhub.NewBar(out))).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	s := out.String()
	assert.Contains(t, s, "rbee-testing/tiny")
	assert.Contains(t, s, "100%")
	assert.Contains(t, s, "retrying model.safetensors")
	assert.Contains(t, s, "verified model.safetensors")
}
