package hive_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/hive/workers"
)

// A downloaded model whose files were removed, truncated or rewritten is
// refused as not downloaded (spawn and the matrix go through the same
// catalog adapter), and a rerun of the download repairs it fetching only
// the damaged file.
func TestDamagedModelRefusedThenRepaired(t *testing.T) {
	weights := "rbee-testing/tiny/model.safetensors"
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string)
		changed string
		fetched int64 // bytes of model.safetensors the repair fetches
	}{
		{"missing", func(t *testing.T, p string) { require.NoError(t, os.Remove(p)) }, "model.safetensors (missing)", 1 << 20},
		{"truncated", func(t *testing.T, p string) { require.NoError(t, os.Truncate(p, 1000)) }, "model.safetensors (1000 bytes, 1048576 verified)", 1 << 20},
		{"rewritten in place", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte{0xff, 0xfe}, 4096)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			later := time.Now().Add(time.Minute)
			require.NoError(t, os.Chtimes(p, later, later))
		}, "model.safetensors (modified since it was verified)", 1 << 20},
		{"touched only", func(t *testing.T, p string) {
			later := time.Now().Add(time.Minute)
			require.NoError(t, os.Chtimes(p, later, later))
		}, "model.safetensors (modified since it was verified)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, srv, files := downloadFixture(t)
			ctx := context.Background()
			_, err := h.Download(ctx, "tiny", hiveOpts(srv))
			require.NoError(t, err)
			cat := workers.StoreCatalog{Store: h.Catalog()}
			m, _, err := cat.Model(ctx, "tiny")
			require.NoError(t, err)
			require.Empty(t, m.Changed)

			p := filepath.Join(h.Home, "models", "tiny", "model.safetensors")
			tt.damage(t, p)
			m, _, err = cat.Model(ctx, "tiny")
			require.NoError(t, err)
			assert.Equal(t, []string{tt.changed}, m.Changed)

			srv.ResetStats()
			res, err := h.Download(ctx, "tiny", hiveOpts(srv))
			require.NoError(t, err)
			assert.False(t, res.AlreadyDownloaded && tt.fetched > 0)
			assert.Equal(t, tt.fetched, srv.BytesServed(weights))
			assert.Zero(t, srv.BytesServed("rbee-testing/tiny/config.json"), "the intact file is not fetched again")
			got, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Equal(t, files["model.safetensors"], got)
			m, _, err = cat.Model(ctx, "tiny")
			require.NoError(t, err)
			assert.Empty(t, m.Changed, "the catalog records the repaired file's new mtime")
		})
	}
}

func hiveOpts(srv *hubmirror.Server) hive.DownloadOptions {
	return hive.DownloadOptions{Client: client(srv, 6)}
}
