package hfhub_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/internal/syncio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const bigSize = 8 << 20

// rangeFixture serves an 8 MiB LFS file and counts the requests in flight
// and the Range headers per file in front of the mirror.
type rangeFixture struct {
	*fixture
	url    string
	peak   atomic.Int32
	mu     sync.Mutex
	ranges map[string][]string
}

func newRangeFixture(t *testing.T) *rangeFixture {
	f := &rangeFixture{fixture: newFixtureFiles(t, map[string][]byte{
		"model.safetensors": randomBytes(bigSize, 11),
		"config.json":       []byte(`{"architectures":["LlamaForCausalLM"]}`),
	}), ranges: map[string][]string{}}
	var inflight atomic.Int32
	f.url = serveWith(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/resolve/") && r.Method == http.MethodGet {
			name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			if name == "model.safetensors" {
				n := inflight.Add(1)
				defer inflight.Add(-1)
				for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
				}
			}
			f.mu.Lock()
			f.ranges[name] = append(f.ranges[name], r.Header.Get("Range"))
			f.mu.Unlock()
		}
		f.srv.ServeHTTP(w, r)
	}))
	return f
}

func (f *rangeFixture) client(opts ...hfhub.Option) *hfhub.Client {
	base := []hfhub.Option{hfhub.WithRetries(6, time.Millisecond), hfhub.WithConnections(4, 1<<20), hfhub.WithStallTimeout(5 * time.Second)}
	return hfhub.New(hfhub.Config{Endpoint: f.url}, append(base, opts...)...)
}

func TestParallelRanges(t *testing.T) {
	f := newRangeFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{StallAfter: 1, StallFor: 50 * time.Millisecond})
	res, err := f.client().Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Equal(t, int64(bigSize), f.srv.BytesServed(weightsPath))
	assert.Equal(t, int64(bigSize), res.Files[0].Fetched)
	assert.Equal(t, int32(4), f.peak.Load(), "4 connections at once, and really 4")
	got := f.ranges["model.safetensors"]
	assert.Len(t, got, 8, "8 parts of 1 MiB")
	assert.Contains(t, got, "bytes=0-1048575")
	assert.Contains(t, got, "bytes=7340032-8388607")
	assert.Equal(t, []string{""}, f.ranges["config.json"], "a small file stays one request")
	assert.NoFileExists(t, filepath.Join(f.dest, ".cache", "rbee", "model.safetensors.partial.json"))
}

func TestParallelRangesResumeEachPart(t *testing.T) {
	f := newRangeFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: 300 << 10, CutTimes: 3, StallAfter: 100 << 10, StallFor: 20 * time.Millisecond})
	out := &syncio.Buffer{}
	_, err := f.client(hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Contains(t, out.String(), "retrying model.safetensors")
	assert.Less(t, float64(f.srv.BytesServed(weightsPath)), 1.01*bigSize)
}

// A link that drops with every range in flight at 50%: the sidecar keeps
// each part's progress, and the rerun fetches only what is missing.
func TestParallelRangesCutAtHalfThenResumed(t *testing.T) {
	f := newRangeFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutTotal: bigSize/2 + 12345, StallAfter: 256 << 10, StallFor: 20 * time.Millisecond})
	_, err := f.client(hfhub.WithRetries(1, time.Millisecond)).Download(context.Background(), f.request())
	require.ErrorIs(t, err, hfhub.ErrUnavailable)
	side, err := os.ReadFile(filepath.Join(f.dest, ".cache", "rbee", "model.safetensors.partial.json"))
	require.NoError(t, err, "the sidecar records the parts")
	assert.Contains(t, string(side), `"chunk":1048576`)

	f.srv.ClearFaults()
	out := &syncio.Buffer{}
	_, err = f.client(hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Regexp(t, `resuming model.safetensors at [4-7]\.\d MiB of 8.0 MiB`, out.String())
	assert.Less(t, float64(f.srv.BytesServed(weightsPath)), 1.01*bigSize, "both runs together")
}

func TestParallelRangesFallBackToOneStream(t *testing.T) {
	f := newRangeFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{IgnoreRange: true})
	_, err := f.client().Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	got := f.ranges["model.safetensors"]
	assert.Equal(t, "", got[len(got)-1], "the last try asked for the whole file")
}

func TestParallelRangesCatchCorruption(t *testing.T) {
	f := newRangeFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{Corrupt: true, CorruptAt: 5 << 20, CorruptTimes: 1})
	out := &syncio.Buffer{}
	_, err := f.client(hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Contains(t, out.String(), "checksum mismatch")
}

// Switching between one stream and parallel ranges keeps the bytes already
// written, both ways.
func TestSwitchingConnectionsKeepsTheBytes(t *testing.T) {
	f := newRangeFixture(t)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutAfter: 3 << 20, CutTimes: 1})
	_, err := f.client(hfhub.WithConnections(1, 0), hfhub.WithRetries(1, time.Millisecond)).Download(context.Background(), f.request())
	require.Error(t, err)
	f.srv.SetFaults(weightsPath, hubmirror.Faults{CutTotal: 2<<20 + 12345, StallAfter: 256 << 10, StallFor: 20 * time.Millisecond})
	out := &syncio.Buffer{}
	_, err = f.client(hfhub.WithRetries(1, time.Millisecond), hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.Error(t, err)
	assert.Contains(t, out.String(), "resuming model.safetensors at 3.0 MiB", "one stream's bytes become the first parts")
	f.srv.ClearFaults()
	out = &syncio.Buffer{}
	_, err = f.client(hfhub.WithConnections(1, 0), hfhub.WithProgress(hfhub.NewLines(out, 0))).Download(context.Background(), f.request())
	require.NoError(t, err)
	f.requireDownloaded(t)
	assert.Contains(t, out.String(), "resuming model.safetensors at ", "the parts' written prefix is kept")
	assert.Less(t, float64(f.srv.BytesServed(weightsPath)), 1.6*bigSize)
}
