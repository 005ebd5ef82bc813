package hive_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/catalog/catalogschema"
	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/worker/realmodel"
)

// ggufFixture: a mirror serving stories260K's two repos, with extra
// files added to the GGUF one.
func ggufFixture(t *testing.T, extra ...string) (hive.Hive, *hubmirror.Server) {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, realmodel.WriteHub(root))
	for _, name := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(root, filepath.FromSlash(realmodel.GGUFRepo), name), []byte("GGUF"), 0o644))
	}
	srv, err := hubmirror.Start(root)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return hive.Hive{Home: t.TempDir()}, srv
}

func register(t *testing.T, h hive.Hive, id, repo string, include ...string) catalog.Model {
	t.Helper()
	m, err := h.Register(context.Background(), hive.RegisterRequest{ID: id, Name: id, Repo: repo, Architecture: "llama", Include: include})
	require.NoError(t, err)
	return m
}

func TestDownloadGGUF(t *testing.T) {
	h, srv := ggufFixture(t)
	ctx := context.Background()
	m := register(t, h, realmodel.GGUFID, realmodel.GGUFRepo, "*.gguf")
	assert.Equal(t, catalog.FormatGGUF, m.Format)

	res, err := h.Download(ctx, realmodel.GGUFID, hive.DownloadOptions{Client: client(srv, 3)})
	require.NoError(t, err)
	m, err = h.Catalog().Get(ctx, realmodel.GGUFID)
	require.NoError(t, err)
	assert.Equal(t, catalog.FormatGGUF, m.Format)
	assert.Equal(t, filepath.Join(h.Home, "models", realmodel.GGUFID, realmodel.GGUFFile), m.Path, "path is the .gguf file")
	st, err := os.Stat(m.Path)
	require.NoError(t, err)
	assert.Equal(t, st.Size(), m.SizeBytes)
	require.Len(t, m.Metadata.Files, 1)
	assert.Equal(t, res.Model, m)
	raw, err := os.ReadFile(h.Catalog().Path())
	require.NoError(t, err)
	require.NoError(t, catalogschema.ValidateDocument(raw))

	res, err = h.Download(ctx, realmodel.GGUFID, hive.DownloadOptions{Client: client(srv, 3)})
	require.NoError(t, err)
	assert.True(t, res.AlreadyDownloaded, "a second download is a no-op")

	// the HF folder of the same model stays a safetensors folder
	register(t, h, realmodel.HFID, realmodel.HFRepo)
	_, err = h.Download(ctx, realmodel.HFID, hive.DownloadOptions{Client: client(srv, 3)})
	require.NoError(t, err)
	hf, err := h.Catalog().Get(ctx, realmodel.HFID)
	require.NoError(t, err)
	assert.Equal(t, catalog.DefaultFormat, hf.Format)
	assert.Equal(t, filepath.Join(h.Home, "models", realmodel.HFID), hf.Path)
}

func TestDownloadGGUFRefused(t *testing.T) {
	h, srv := ggufFixture(t, "stories260K-copy.gguf")
	ctx := context.Background()
	tests := []struct {
		id      string
		include []string
		err     error
		says    string
	}{
		{"several", []string{"*.gguf"}, hfhub.ErrAmbiguousGGUF, "stories260K-copy.gguf, stories260K.gguf"},
		{"none", []string{"*Q4_K_M.gguf"}, hfhub.ErrNoFiles, "its .gguf files: stories260K-copy.gguf, stories260K.gguf"},
		{"default-set", nil, hfhub.ErrNoFiles, "selects no .gguf file"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			register(t, h, tt.id, realmodel.GGUFRepo, tt.include...)
			_, err := h.Download(ctx, tt.id, hive.DownloadOptions{Client: client(srv, 3)})
			require.ErrorIs(t, err, tt.err)
			assert.Contains(t, err.Error(), tt.says)
			m, err := h.Catalog().Get(ctx, tt.id)
			require.NoError(t, err)
			assert.False(t, m.Downloaded, "the catalog is unchanged")
			_, err = os.Stat(filepath.Join(h.Home, "models", tt.id))
			assert.ErrorIs(t, err, os.ErrNotExist, "nothing was fetched")
		})
	}
}
