package hive_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/catalog/catalogschema"
	"github.com/rbee-go/rbee/hive/hostinfo"
)

func testHive(t *testing.T) hive.Hive {
	t.Helper()
	return hive.Hive{Home: filepath.Join(t.TempDir(), "home"), Prober: hostinfo.Prober{NvidiaSMI: "/nonexistent/nvidia-smi"}}
}

func seedRequest(id string) hive.RegisterRequest {
	return hive.RegisterRequest{ID: id, Name: "Model " + id, Repo: "org/" + id, Architecture: "llama"}
}

func TestRegisterDefaults(t *testing.T) {
	h := testHive(t)
	m, err := h.Register(context.Background(), seedRequest("tinyllama"))
	require.NoError(t, err)
	assert.Equal(t, []catalog.Backend{"cpu", "metal", "cuda"}, m.Backends)
	assert.Equal(t, "main", m.Metadata.Revision)
	assert.Equal(t, filepath.Join(h.Home, "models", "tinyllama"), m.Path)
	assert.Equal(t, "safetensors", m.Format)
	assert.False(t, m.Downloaded)

	c, err := h.LoadCatalog(context.Background())
	require.NoError(t, err)
	require.Len(t, c.Models, 1)
	assert.Equal(t, m.ID, c.Models[0].ID)
	raw, err := os.ReadFile(h.Catalog().Path())
	require.NoError(t, err)
	require.NoError(t, catalogschema.ValidateDocument(raw))
}

func TestRegisterRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*hive.RegisterRequest)
		code   catalog.Code
	}{
		{"dot-dot id", func(r *hive.RegisterRequest) { r.ID = "../x" }, catalog.CodeInvalidID},
		{"space id", func(r *hive.RegisterRequest) { r.ID = "A B" }, catalog.CodeInvalidID},
		{"empty id", func(r *hive.RegisterRequest) { r.ID = "" }, catalog.CodeInvalidID},
		{"bad repo", func(r *hive.RegisterRequest) { r.Repo = "nope" }, catalog.CodeInvalidRepo},
		{"bad backend", func(r *hive.RegisterRequest) { r.Backends = []catalog.Backend{"rocm"} }, catalog.CodeInvalidBackend},
		{"no name", func(r *hive.RegisterRequest) { r.Name = "  " }, catalog.CodeInvalidModel},
		{"duplicate", func(r *hive.RegisterRequest) { r.ID = "exists" }, catalog.CodeModelExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHive(t)
			_, err := h.Register(context.Background(), seedRequest("exists"))
			require.NoError(t, err)
			before, err := os.ReadFile(h.Catalog().Path())
			require.NoError(t, err)
			req := seedRequest("new")
			tt.mutate(&req)
			_, err = h.Register(context.Background(), req)
			assert.Equal(t, tt.code, catalog.CodeOf(err), "%v", err)
			after, err := os.ReadFile(h.Catalog().Path())
			require.NoError(t, err)
			assert.Equal(t, before, after)
		})
	}
}

func TestUnregister(t *testing.T) {
	tests := []struct {
		name        string
		id          string
		deleteFiles bool
		code        catalog.Code
		filesLeft   bool
	}{
		{"keep files", "m", false, "", true},
		{"delete files", "m", true, "", false},
		{"unknown", "zzz", true, catalog.CodeModelNotFound, true},
		{"escape attempt", "../home", true, catalog.CodeInvalidID, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := testHive(t)
			_, err := h.Register(ctx, seedRequest("m"))
			require.NoError(t, err)
			weights := filepath.Join(h.ModelsDir(), "m", "model.safetensors")
			require.NoError(t, os.MkdirAll(filepath.Dir(weights), 0o755))
			require.NoError(t, os.WriteFile(weights, []byte("w"), 0o644))

			removed, err := h.Unregister(ctx, tt.id, tt.deleteFiles)
			assert.Equal(t, tt.code, catalog.CodeOf(err), "%v", err)
			if tt.code == "" {
				assert.Equal(t, "m", removed.ID)
				c, err := h.LoadCatalog(ctx)
				require.NoError(t, err)
				assert.Empty(t, c.Models)
			}
			_, statErr := os.Stat(weights)
			assert.Equal(t, tt.filesLeft, statErr == nil)
			assert.DirExists(t, h.Home)
		})
	}
}

func TestListDownloaded(t *testing.T) {
	ctx := context.Background()
	h := testHive(t)
	for _, id := range []string{"a", "b"} {
		_, err := h.Register(ctx, seedRequest(id))
		require.NoError(t, err)
	}
	list, err := h.ListDownloaded(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = h.Catalog().Update(ctx, func(c *catalog.Catalog) error {
		c.Find("b").Downloaded = true
		return nil
	})
	require.NoError(t, err)
	list, err = h.ListDownloaded(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "b", list[0].ID)
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		setup     func(t *testing.T, h hive.Hive)
		models    hive.ModelCounts
		workers   int
		poolID    string
		warnCount int
	}{
		{"fresh home", func(*testing.T, hive.Hive) {}, hive.ModelCounts{}, 0, "", 0},
		{"models and workers", func(t *testing.T, h hive.Hive) {
			_, err := catalog.Store{Dir: h.ModelsDir(), PoolID: "mac-studio"}.Update(ctx, func(c *catalog.Catalog) error {
				m := catalog.Model{ID: "a", Name: "A", Architecture: "llama", Format: catalog.DefaultFormat, Backends: []catalog.Backend{"cpu"},
					Metadata: catalog.Metadata{Repo: "o/a"}, Downloaded: true}
				return c.Add(m)
			})
			require.NoError(t, err)
			_, err = h.Register(ctx, seedRequest("b"))
			require.NoError(t, err)
			require.NoError(t, os.MkdirAll(h.WorkersDir(), 0o755))
			for _, f := range []string{"worker-cpu-0.json", "worker-cuda-1.json", "worker-cpu-0.log"} {
				require.NoError(t, os.WriteFile(filepath.Join(h.WorkersDir(), f), []byte("{}"), 0o644))
			}
		}, hive.ModelCounts{Registered: 2, Downloaded: 1}, 2, "mac-studio", 0},
		{"broken catalog", func(t *testing.T, h hive.Hive) {
			require.NoError(t, os.MkdirAll(h.ModelsDir(), 0o755))
			require.NoError(t, os.WriteFile(h.Catalog().Path(), []byte("garbage"), 0o644))
		}, hive.ModelCounts{}, 0, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHive(t)
			tt.setup(t, h)
			st, err := h.Status(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.models, st.Models)
			assert.Equal(t, tt.workers, st.Workers)
			assert.Len(t, st.Warnings, tt.warnCount)
			want := tt.poolID
			if want == "" {
				want = st.Hostname
			}
			assert.Equal(t, want, st.PoolID)
			assert.Equal(t, hive.Version, st.Version)
			assert.Contains(t, st.Backends, "cpu")
			assert.Equal(t, h.Home, st.Home)

			var buf bytes.Buffer
			require.NoError(t, hive.Style{}.WriteStatus(&buf, st))
			assert.Contains(t, buf.String(), "backends  cpu")
			assert.NotContains(t, buf.String(), "\x1b[")
		})
	}
}

func TestDefaultHome(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	u, err := os.UserHomeDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(u, ".rbee"), hive.DefaultHome(getenv))
	env["RBEE_HOME"] = "/srv/rbee"
	assert.Equal(t, "/srv/rbee", hive.DefaultHome(getenv))
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{2200119864, "2.0 GiB"}, {5 << 40, "5.0 TiB"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, hive.HumanBytes(tt.n), "%d", tt.n)
	}
}

func TestRenderCatalog(t *testing.T) {
	tests := []struct {
		name  string
		c     *catalog.Catalog
		style hive.Style
		want  []string
	}{
		{"empty", catalog.New("p"), hive.Style{}, []string{"no models registered"}},
		{"one", &catalog.Catalog{Models: []catalog.Model{{ID: "qwen-0.5b", Name: "Qwen", Architecture: "qwen",
			Backends: []catalog.Backend{"cpu", "cuda"}, Downloaded: true, SizeBytes: 1 << 30, Metadata: catalog.Metadata{Repo: "Qwen/Qwen2.5-0.5B-Instruct"}}}},
			hive.Style{}, []string{"ID", "qwen-0.5b", "cpu,cuda", "Qwen/Qwen2.5-0.5B-Instruct", "yes", "1.0 GiB"}},
		{"color header", &catalog.Catalog{Models: []catalog.Model{{ID: "x"}}}, hive.Style{Color: true}, []string{"\x1b[1mID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, tt.style.WriteCatalog(&buf, tt.c))
			for _, w := range tt.want {
				assert.Contains(t, buf.String(), w)
			}
		})
	}
	var buf bytes.Buffer
	require.NoError(t, hive.Style{}.WriteModelList(&buf, nil))
	assert.Contains(t, buf.String(), "no models downloaded")
	buf.Reset()
	require.NoError(t, hive.Style{}.WriteModelList(&buf, []catalog.Model{{ID: "a", Path: "/h/models/a", SizeBytes: 2048}}))
	assert.Contains(t, buf.String(), "/h/models/a")
	assert.Contains(t, buf.String(), "2.0 KiB")
}

func TestStatusWorkerBinaries(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "llm-worker-rbee")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("RBEE_WORKER_BIN", "")
	t.Setenv("RBEE_WORKER_BIN_CPU", bin)
	t.Setenv("PATH", t.TempDir())
	st, err := testHive(t).Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"cpu": bin, "metal": "", "cuda": ""}, st.WorkerBinaries)
	var buf bytes.Buffer
	require.NoError(t, hive.Style{}.WriteStatus(&buf, st))
	assert.Contains(t, buf.String(), "binaries  cpu: "+bin+"; metal: not found; cuda: not found")
}

func TestExpandHome(t *testing.T) {
	u, err := os.UserHomeDir()
	require.NoError(t, err)
	wd, err := os.Getwd()
	require.NoError(t, err)
	tests := []struct{ in, want string }{
		{"~/.rbee", filepath.Join(u, ".rbee")},
		{"~", u},
		{"/srv/rbee", "/srv/rbee"},
		{"rel/home", filepath.Join(wd, "rel/home")},
		{"~other/x", filepath.Join(wd, "~other/x")},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, hive.ExpandHome(tt.in), tt.in)
	}
}
