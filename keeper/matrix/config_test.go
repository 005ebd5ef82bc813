package matrix_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper/matrix"
)

func TestParsePools(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []matrix.PoolSpec
		wantErr string
	}{
		{name: "default", in: []string{"localhost:cpu"}, want: []matrix.PoolSpec{{Dest: "localhost", Backends: []string{"cpu"}}}},
		{name: "one dest, two backends, one pool", in: []string{"mac:metal", "harness:cpu", "mac:cpu", "mac:metal"},
			want: []matrix.PoolSpec{{Dest: "mac", Backends: []string{"metal", "cpu"}}, {Dest: "harness", Backends: []string{"cpu"}}}},
		{name: "split at the last colon", in: []string{"me@[::1]:2222:cuda"}, want: []matrix.PoolSpec{{Dest: "me@[::1]:2222", Backends: []string{"cuda"}}}},
		{name: "no backend", in: []string{"localhost"}, wantErr: "not DEST:BACKEND"},
		{name: "unknown backend", in: []string{"localhost:rocm"}, wantErr: `unknown backend "rocm"`},
		{name: "empty", in: nil, wantErr: "no pool given"},
		{name: "bad dest", in: []string{"a/b:cpu"}, wantErr: "bad destination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := matrix.ParsePools(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestIsHarness(t *testing.T) {
	for dest, want := range map[string]bool{"harness": true, "harness-2": true, "harness-10": true,
		"harness2": false, "harness-": false, "localhost": false, "harness.lan": false} {
		assert.Equal(t, want, matrix.IsHarness(dest), dest)
	}
}

func ids(ms []matrix.Model) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestResolveModels(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		tiny    bool
		wantErr string
	}{
		{in: "tiny", want: []string{"stories260k", "stories260k-gguf", "tiny-llama", "tiny-qwen2", "tiny-phi3", "tiny-mistral",
			"tiny-llama-q8_0", "tiny-qwen2-q8_0", "tiny-phi3-q8_0", "tiny-mistral-q8_0"}, tiny: true},
		{in: "tiny-phi3-q8_0", want: []string{"tiny-phi3-q8_0"}, tiny: true},
		{in: "stories", want: []string{"stories260k", "stories260k-gguf"}},
		{in: "seed", want: []string{"tinyllama", "qwen-0.5b", "phi3", "mistral"}},
		{in: "qwen-0.5b, phi3,qwen-0.5b", want: []string{"qwen-0.5b", "phi3"}},
		{in: "tiny-qwen2", want: []string{"tiny-qwen2"}, tiny: true},
		{in: "gpt-5", wantErr: `unknown model "gpt-5"`},
		{in: " , ", wantErr: "no model given"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := matrix.ResolveModels(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, ids(got))
			for _, m := range got {
				assert.Equal(t, tt.tiny && !m.CI, m.Tiny, m.ID)
				assert.Equal(t, m.CI, m.Reference != nil, "a CI model is checked against its reference: %s", m.ID)
				assert.NotEmpty(t, m.Repo)
				assert.Contains(t, []string{"llama", "qwen", "phi", "mistral"}, m.Architecture)
			}
		})
	}
}

func TestSeedRepos(t *testing.T) {
	want := map[string]string{"tinyllama": "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "qwen-0.5b": "Qwen/Qwen2.5-0.5B-Instruct",
		"phi3": "microsoft/Phi-3-mini-4k-instruct", "mistral": "mistralai/Mistral-7B-Instruct-v0.2"}
	for _, m := range matrix.SeedModels() {
		assert.Equal(t, want[m.ID], m.Repo, m.ID)
	}
}

func TestCheckHub(t *testing.T) {
	answered := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/models/org/name/revision/main", r.URL.Path)
		http.Error(w, "gated", http.StatusUnauthorized) // any answer means reachable
	}))
	t.Cleanup(answered.Close)
	require.NoError(t, matrix.CheckHub(context.Background(), answered.URL+"/", "org/name"))

	start := time.Now()
	err := matrix.CheckHub(context.Background(), "http://127.0.0.1:1", "org/name")
	require.ErrorIs(t, err, matrix.ErrHubUnreachable)
	assert.Contains(t, err.Error(), "http://127.0.0.1:1")
	assert.Contains(t, err.Error(), "hint: ")
	assert.Less(t, time.Since(start), matrix.HubCheckTimeout+time.Second)
}

func TestCheckHubStalls(t *testing.T) {
	release := make(chan struct{})
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); stalled.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := matrix.CheckHub(ctx, stalled.URL, "org/name")
	require.True(t, errors.Is(err, matrix.ErrHubUnreachable), "%v", err)
}

func TestSetupFailsFastOnAnUnreachableHub(t *testing.T) {
	start := time.Now()
	_, err := matrix.Setup(context.Background(), matrix.Config{Pools: []string{"localhost:cpu"}, Models: "seed",
		Hub: "http://127.0.0.1:1", WorkDir: t.TempDir()})
	require.ErrorIs(t, err, matrix.ErrHubUnreachable)
	assert.Less(t, time.Since(start), 2*time.Second, "no binary built, no pool started before the hub check")
}

func TestSetupRejectsBadFlags(t *testing.T) {
	for _, c := range []matrix.Config{
		{Pools: []string{"localhost"}, Models: "tiny"},
		{Pools: []string{"localhost:cpu"}, Models: "nope"},
		{Pools: []string{"localhost:cpu"}, Models: "tiny-llama,tinyllama"},
	} {
		c.WorkDir = t.TempDir()
		_, err := matrix.Setup(context.Background(), c)
		assert.Error(t, err, "%+v", c)
	}
}

// The embedded tiny-model mirror is on loopback: a pool on another machine
// cannot download from it, which Setup says before any cell.
func TestSetupRefusesTheLoopbackMirrorForARemotePool(t *testing.T) {
	t.Setenv("RBEE_POOLS", "")
	t.Setenv("HOME", t.TempDir())
	_, err := matrix.Setup(context.Background(), matrix.Config{Pools: []string{"builder@192.0.2.7:cpu"}, Models: "tiny-llama",
		WorkDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pool builder@192.0.2.7: the hub http://127.0.0.1:")
	assert.Contains(t, err.Error(), "hint: pass -hub=")
}
