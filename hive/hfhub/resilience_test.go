package hfhub_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/internal/syncio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRateLimitIsWaitedForNotCounted(t *testing.T) {
	tests := []struct {
		name   string
		target string
		faults hubmirror.Faults
		line   string
	}{
		{"RateLimit t= on the API", "", hubmirror.Faults{RateLimit: 2, RateLimitWait: 1},
			"rate limited by the hub (HTTP 429, RateLimit t=1): waiting 1s before the next hub request (not counted as a try)"},
		{"Retry-After on a file", weightsPath, hubmirror.Faults{RateLimit: 2, RateLimitWait: 1, RetryAfterOnly: true},
			"rate limited by the hub (HTTP 429, Retry-After 1): waiting 1s before fetching model.safetensors again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.SetFaults(tt.target, tt.faults)
			out := &syncio.Buffer{}
			// One try only: the waits must not use it up.
			_, err := f.client(t, hfhub.WithRetries(1, time.Millisecond), hfhub.WithProgress(hfhub.NewLines(out, 0))).
				Download(context.Background(), f.request())
			require.NoError(t, err, out.String())
			f.requireDownloaded(t)
			assert.Contains(t, out.String(), tt.line)
			assert.NotContains(t, out.String(), "retrying")
		})
	}
}

func TestRateLimitGivesUpAfterTheBudget(t *testing.T) {
	for _, token := range []string{"", "hf_x"} {
		f := newFixture(t)
		f.srv.SetFaults("", hubmirror.Faults{RateLimit: 1000, RateLimitWait: 1})
		start := time.Now()
		c := hfhub.New(hfhub.Config{Endpoint: f.srv.URL, Token: token, TokenFrom: "HF_TOKEN"}, hfhub.WithRateLimitBudget(2500*time.Millisecond))
		_, err := c.Download(context.Background(), f.request())
		require.ErrorIs(t, err, hfhub.ErrRateLimited)
		assert.Less(t, time.Since(start), 6*time.Second)
		var he *hfhub.Error
		require.ErrorAs(t, err, &he)
		assert.Contains(t, he.Msg, "the hub ("+f.srv.URL+") rate-limited the download of rbee-testing/tiny: gave up after waiting 2s in total")
		assert.Contains(t, he.Hint, "HF_TOKEN")
	}
}

func TestStalledAPICallsTimeOut(t *testing.T) {
	f := newFixture(t)
	f.srv.SetFaults("", hubmirror.Faults{StallAPIFor: time.Minute, StallAPITimes: 2})
	out := &syncio.Buffer{}
	start := time.Now()
	_, err := f.client(t, hfhub.WithAPITimeout(200*time.Millisecond), hfhub.WithProgress(hfhub.NewLines(out, 0))).
		Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Contains(t, out.String(), "no answer in 200ms")
}

// A server that ignores Range and always breaks at the same byte moves a
// megabyte per try but never advances the file: the tries run out.
func TestRetriesAreBoundedByProgress(t *testing.T) {
	f := newFixture(t)
	size := int64(len(f.files["model.safetensors"]))
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: size / 2, IgnoreRange: true})
	_, err := f.client(t).Download(context.Background(), f.request())
	require.ErrorIs(t, err, hfhub.ErrUnavailable)
	assert.Contains(t, err.Error(), "failed after 6 tries")
	assert.Equal(t, 6, f.srv.FileRequests(weightsPath))
}

func TestIdentityEncoding(t *testing.T) {
	t.Run("a proxy that compresses when allowed leaves us alone", func(t *testing.T) {
		f := newFixture(t)
		f.srv.SetFaults("", hubmirror.Faults{Gzip: true})
		f.srv.SetFaults(weightsPath, hubmirror.Faults{Gzip: true})
		_, err := f.client(t).Download(context.Background(), f.request())
		require.NoError(t, err)
		f.requireDownloaded(t)
	})
	t.Run("a proxy that always compresses is refused, not stored", func(t *testing.T) {
		f := newFixture(t)
		f.srv.SetFaults("", hubmirror.Faults{GzipAlways: true}) // API answers too: decoded
		_, err := f.client(t).Download(context.Background(), f.request())
		var he *hfhub.Error
		require.ErrorAs(t, err, &he)
		assert.Equal(t, hfhub.CodeBadResponse, he.Code)
		assert.Contains(t, he.Msg, "gzip-encoded though the client asked for identity")
		assert.Contains(t, he.Hint, "proxy")
		noPartials(t, f.dest)
	})
}

func TestPartialOfAnOlderVersionIsDiscarded(t *testing.T) {
	f := newFixture(t)
	size := int64(len(f.files["model.safetensors"]))
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: size / 2})
	_, err := f.client(t, hfhub.WithRetries(1, time.Millisecond)).Download(context.Background(), f.request())
	require.Error(t, err)
	// The hub gets a new version of the weights before the rerun.
	f.files["model.safetensors"] = randomBytes(int(size), 42)
	require.NoError(t, os.WriteFile(filepath.Join(f.srv.Dir(), repoID, "model.safetensors"), f.files["model.safetensors"], 0o644))
	f.srv.ClearFaults()
	f.srv.ResetStats()
	out := &syncio.Buffer{}
	_, err = f.client(t, hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Equal(t, size, f.srv.BytesServed(weightsPath), "fetched whole: one try, no failed resume")
	assert.Contains(t, out.String(), "fetching model.safetensors (2.0 MiB)")
	assert.NotContains(t, out.String(), "resuming")
	assert.NoFileExists(t, filepath.Join(f.dest, ".cache", "rbee", "model.safetensors.partial.json"))
}
