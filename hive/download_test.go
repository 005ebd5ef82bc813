package hive_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// downloadFixture: a home with model "tiny" registered and a mirror serving it.
func downloadFixture(t *testing.T, include ...string) (hive.Hive, *hubmirror.Server, map[string][]byte) {
	t.Helper()
	root := t.TempDir()
	files := map[string][]byte{
		"model.safetensors": make([]byte, 1<<20),
		"config.json":       []byte(`{"architectures":["LlamaForCausalLM"]}`),
		"README.md":         []byte("# tiny"),
	}
	for i := range files["model.safetensors"] {
		files["model.safetensors"][i] = byte(i * 7)
	}
	for name, b := range files {
		p := filepath.Join(root, "rbee-testing", "tiny", name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	srv, err := hubmirror.Start(root)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	h := hive.Hive{Home: t.TempDir()}
	_, err = h.Register(context.Background(), hive.RegisterRequest{ID: "tiny", Name: "Tiny", Repo: "rbee-testing/tiny",
		Architecture: "llama", Include: include})
	require.NoError(t, err)
	return h, srv, files
}

func client(srv *hubmirror.Server, tries int) *hfhub.Client {
	return hfhub.New(hfhub.Config{Endpoint: srv.URL}, hfhub.WithRetries(tries, time.Millisecond))
}

func TestDownloadMarksCatalog(t *testing.T) {
	h, srv, files := downloadFixture(t)
	ctx := context.Background()
	res, err := h.Download(ctx, "tiny", hive.DownloadOptions{Client: client(srv, 6)})
	require.NoError(t, err)
	assert.False(t, res.AlreadyDownloaded)
	m, err := h.Catalog().Get(ctx, "tiny")
	require.NoError(t, err)
	assert.True(t, m.Downloaded)
	assert.Equal(t, filepath.Join(h.Home, "models", "tiny"), m.Path)
	repo, err := srv.Repo("rbee-testing/tiny")
	require.NoError(t, err)
	assert.Equal(t, repo.Commit, m.Metadata.Commit)
	assert.Equal(t, "main", m.Metadata.Revision)
	want := int64(len(files["model.safetensors"]) + len(files["config.json"]))
	assert.Equal(t, want, m.SizeBytes)
	assert.InDelta(t, 0.0, m.SizeGB, 0.01)
	require.Len(t, m.Metadata.Files, 2)
	for _, f := range m.Metadata.Files {
		sum := sha256.Sum256(files[f.Name])
		assert.Equal(t, hex.EncodeToString(sum[:]), f.SHA256, f.Name)
		got, err := os.ReadFile(filepath.Join(m.Path, f.Name))
		require.NoError(t, err)
		assert.Equal(t, files[f.Name], got)
	}
	assert.Equal(t, res.Model.Metadata.Files, m.Metadata.Files)

	srv.ResetStats()
	res, err = h.Download(ctx, "tiny", hive.DownloadOptions{Client: client(srv, 6)})
	require.NoError(t, err)
	assert.True(t, res.AlreadyDownloaded)
	assert.Zero(t, srv.BytesServed(""))
}

func TestDownloadIncludeFromCatalog(t *testing.T) {
	h, srv, _ := downloadFixture(t, "*.json")
	res, err := h.Download(context.Background(), "tiny", hive.DownloadOptions{Client: client(srv, 6)})
	require.NoError(t, err)
	require.Len(t, res.Model.Metadata.Files, 1)
	assert.Equal(t, "config.json", res.Model.Metadata.Files[0].Name)
}

func TestFailedDownloadLeavesCatalogAlone(t *testing.T) {
	h, srv, _ := downloadFixture(t)
	ctx := context.Background()
	srv.SetFaults("rbee-testing/tiny/model.safetensors", hubmirror.Faults{CutAfter: 1 << 18})
	_, err := h.Download(ctx, "tiny", hive.DownloadOptions{Client: client(srv, 2)})
	require.ErrorIs(t, err, hfhub.ErrUnavailable)
	m, err := h.Catalog().Get(ctx, "tiny")
	require.NoError(t, err)
	assert.False(t, m.Downloaded)
	assert.Empty(t, m.Metadata.Files)
	st, err := os.Stat(filepath.Join(h.Home, "models", "tiny", "model.safetensors.incomplete"))
	require.NoError(t, err)
	assert.Equal(t, int64(1<<19), st.Size())

	_, err = h.Download(ctx, "tiny", hive.DownloadOptions{Client: client(srv, 6), Revision: "v9"})
	require.ErrorIs(t, err, hfhub.ErrNotFound)

	srv.ClearFaults()
	srv.ResetStats()
	_, err = h.Download(ctx, "tiny", hive.DownloadOptions{Client: client(srv, 6)})
	require.NoError(t, err)
	assert.Equal(t, int64(1<<19), srv.BytesServed("rbee-testing/tiny/model.safetensors"), "the rerun fetched only the missing half")
	m, err = h.Catalog().Get(ctx, "tiny")
	require.NoError(t, err)
	assert.True(t, m.Downloaded)
}

func TestDownloadUnknownModel(t *testing.T) {
	h, srv, _ := downloadFixture(t)
	_, err := h.Download(context.Background(), "nope", hive.DownloadOptions{Client: client(srv, 6)})
	require.ErrorIs(t, err, catalog.ErrModelNotFound)
	_, err = h.Download(context.Background(), "../x", hive.DownloadOptions{Client: client(srv, 6)})
	require.ErrorIs(t, err, catalog.ErrInvalidID)
}
