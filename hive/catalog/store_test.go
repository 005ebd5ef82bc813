package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/catalog/catalogschema"
)

func model(id string) catalog.Model {
	return catalog.Model{ID: id, Name: "Model " + id, Architecture: "llama", Format: catalog.DefaultFormat,
		Backends: []catalog.Backend{"cpu"}, Metadata: catalog.Metadata{Repo: "org/" + id}}
}

func add(m catalog.Model) func(*catalog.Catalog) error {
	return func(c *catalog.Catalog) error { return c.Add(m) }
}

// requireSchemaValid checks the file the store wrote against the published schema.
func requireSchemaValid(t *testing.T, s catalog.Store) []byte {
	t.Helper()
	raw, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	require.NoError(t, catalogschema.ValidateDocument(raw))
	return raw
}

func TestStoreCreateLoadSave(t *testing.T) {
	ctx := context.Background()
	s := catalog.Store{Dir: filepath.Join(t.TempDir(), "models"), PoolID: "pool-a"}

	c, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, c.Models)
	assert.NoFileExists(t, s.Path(), "Load must not create the file")

	_, err = s.Update(ctx, add(model("a")))
	require.NoError(t, err)
	first := requireSchemaValid(t, s)
	assert.NoFileExists(t, s.BackupPath(), "no backup before a previous version exists")

	_, err = s.Update(ctx, add(model("b")))
	require.NoError(t, err)
	requireSchemaValid(t, s)
	bak, err := os.ReadFile(s.BackupPath())
	require.NoError(t, err)
	assert.Equal(t, first, bak, ".bak holds the previous version")

	c, err = catalog.Store{Dir: s.Dir}.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "1.0", c.Version)
	assert.Equal(t, "pool-a", c.PoolID)
	assert.False(t, c.UpdatedAt.IsZero())
	require.Len(t, c.Models, 2)
	assert.Equal(t, []string{"a", "b"}, []string{c.Models[0].ID, c.Models[1].ID})

	m, err := s.Get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, "org/b", m.Metadata.Repo)
	_, err = s.Get(ctx, "zzz")
	assert.ErrorIs(t, err, catalog.ErrModelNotFound)
}

func TestStoreFailedUpdateWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := catalog.Store{Dir: t.TempDir(), PoolID: "p"}
	_, err := s.Update(ctx, add(model("a")))
	require.NoError(t, err)
	before, err := os.ReadFile(s.Path())
	require.NoError(t, err)

	tests := []struct {
		name string
		fn   func(*catalog.Catalog) error
		code catalog.Code
	}{
		{"duplicate", add(model("a")), catalog.CodeModelExists},
		{"bad id", add(model("../x")), catalog.CodeInvalidID},
		{"unknown", func(c *catalog.Catalog) error { _, err := c.Remove("nope"); return err }, catalog.CodeModelNotFound},
		{"invalid after edit", func(c *catalog.Catalog) error { c.Models[0].Backends = []catalog.Backend{"tpu"}; return nil }, catalog.CodeInvalidBackend},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Update(ctx, tt.fn)
			require.Error(t, err)
			assert.Equal(t, tt.code, catalog.CodeOf(err))
			after, err := os.ReadFile(s.Path())
			require.NoError(t, err)
			assert.Equal(t, before, after)
		})
	}
}

func TestStoreNeverOverwritesCorruptCatalog(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"garbage", "this is not json {{{", "invalid JSON at line 1"},
		{"truncated", "{\n  \"version\": \"1.0\",\n  \"models\": [", "invalid"},
		{"wrong type", `{"version":"1.0","models":"x"}`, "invalid catalog document"},
		{"no version", `{"models":[]}`, `missing "version"`},
		{"trailing data", `{"version":"1.0","models":[]} {}`, "unexpected data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := catalog.Store{Dir: t.TempDir()}
			require.NoError(t, os.WriteFile(s.Path(), []byte(tt.content), 0o644))

			_, err := s.Load(ctx)
			require.ErrorIs(t, err, catalog.ErrCorrupt)
			assert.Contains(t, err.Error(), s.Path())
			assert.Contains(t, err.Error(), tt.want)

			_, err = s.Update(ctx, add(model("a")))
			require.ErrorIs(t, err, catalog.ErrCorrupt)
			got, err := os.ReadFile(s.Path())
			require.NoError(t, err)
			assert.Equal(t, tt.content, string(got), "corrupt catalog must stay byte-for-byte")
			assert.NoFileExists(t, s.BackupPath())
		})
	}
}

func TestStoreNotWritable(t *testing.T) {
	// A home below a regular file cannot be created even by root.
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	s := catalog.ForHome(filepath.Join(file, "home"))
	_, err := s.Update(context.Background(), add(model("a")))
	require.ErrorIs(t, err, catalog.ErrNotWritable)
	assert.Contains(t, err.Error(), "not a directory")
	var ce *catalog.Error
	require.ErrorAs(t, err, &ce)
	assert.NotEmpty(t, ce.ErrorHint())
}

func TestStoreLockedContext(t *testing.T) {
	s := catalog.Store{Dir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	entered := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := s.Update(context.Background(), func(c *catalog.Catalog) error {
			close(entered)
			<-release
			return c.Add(model("a"))
		})
		done <- err
	}()
	<-entered
	cancel()
	_, err := s.Update(ctx, add(model("b")))
	assert.ErrorIs(t, err, catalog.ErrLocked)
	close(release)
	require.NoError(t, <-done)
}

func TestStoreParallelGoroutines(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A Store per goroutine: separate lock file handles, like separate processes.
			_, err := catalog.Store{Dir: dir}.Update(context.Background(), add(model(fmt.Sprintf("m%02d", i))))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	c, err := catalog.Store{Dir: dir}.Load(context.Background())
	require.NoError(t, err)
	assert.Len(t, c.Models, 20)
	requireSchemaValid(t, catalog.Store{Dir: dir})
}

// TestStoreParallelProcesses re-runs this test binary as 20 writer processes.
func TestStoreParallelProcesses(t *testing.T) {
	if dir := os.Getenv("RBEE_CATALOG_HELPER_DIR"); dir != "" {
		_, err := catalog.Store{Dir: dir}.Update(context.Background(), add(model(os.Getenv("RBEE_CATALOG_HELPER_ID"))))
		require.NoError(t, err)
		return
	}
	dir := t.TempDir()
	cmds := make([]*exec.Cmd, 20)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStoreParallelProcesses$")
		cmd.Env = append(os.Environ(), "RBEE_CATALOG_HELPER_DIR="+dir, fmt.Sprintf("RBEE_CATALOG_HELPER_ID=p%02d", i))
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait())
	}
	c, err := catalog.Store{Dir: dir}.Load(context.Background())
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, m := range c.Models {
		ids[m.ID] = true
	}
	assert.Len(t, ids, 20)
	assert.Len(t, c.Models, 20)
	requireSchemaValid(t, catalog.Store{Dir: dir})
}

func TestExtraFieldsPreserved(t *testing.T) {
	seed := `{"version":"1.0","pool_id":"mac","updated_at":"2025-10-09T12:00:00Z","comment":"hand edited",
 "models":[{"id":"tinyllama","name":"TinyLlama","path":"/x","format":"safetensors","size_gb":2.2,"size_bytes":2200119864,
  "architecture":"llama","downloaded":true,"backends":["cpu","metal"],"quantization":"f16",
  "metadata":{"repo":"TinyLlama/TinyLlama-1.1B-Chat-v1.0","revision":"main","license":"apache-2.0",
   "files":[{"name":"model.safetensors","size":2200119864,"sha256":"` + fmt.Sprintf("%064x", 1) + `","lfs":true}]}}]}`
	s := catalog.Store{Dir: t.TempDir()}
	require.NoError(t, os.WriteFile(s.Path(), []byte(seed), 0o644))
	require.NoError(t, catalogschema.ValidateDocument([]byte(seed)))

	_, err := s.Update(context.Background(), add(model("other")))
	require.NoError(t, err)
	raw := requireSchemaValid(t, s)

	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, "hand edited", doc["comment"])
	m0 := doc["models"].([]any)[0].(map[string]any)
	assert.Equal(t, "f16", m0["quantization"])
	md := m0["metadata"].(map[string]any)
	assert.Equal(t, "apache-2.0", md["license"])
	f0 := md["files"].([]any)[0].(map[string]any)
	assert.Equal(t, true, f0["lfs"])
	assert.Equal(t, 2200119864.0, f0["size"])
	assert.Equal(t, "mac", doc["pool_id"])
}

func TestSchemaRejects(t *testing.T) {
	ok := `{"version":"1.0","pool_id":"p","updated_at":"2025-10-09T12:00:00Z","models":[]}`
	require.NoError(t, catalogschema.ValidateDocument([]byte(ok)))
	m := `{"id":%q,"name":"n","path":"/p","format":"safetensors","size_gb":0,"size_bytes":0,"architecture":"llama","downloaded":false,"backends":%s,"metadata":{"repo":%q}}`
	doc := func(model string) string {
		return `{"version":"1.0","pool_id":"p","updated_at":"2025-10-09T12:00:00Z","models":[` + model + `]}`
	}
	gguf := func(path string, downloaded bool) string {
		return fmt.Sprintf(`{"id":"a","name":"n","path":%q,"format":"gguf","size_gb":0,"size_bytes":0,"architecture":"llama","downloaded":%t,"backends":["cpu"],"metadata":{"repo":"o/n"}}`, path, downloaded)
	}
	tests := []struct {
		name, doc string
		valid     bool
	}{
		{"good model", doc(fmt.Sprintf(m, "a", `["cpu"]`, "o/n")), true},
		{"bad id", doc(fmt.Sprintf(m, "../x", `["cpu"]`, "o/n")), false},
		{"bad backend", doc(fmt.Sprintf(m, "a", `["tpu"]`, "o/n")), false},
		{"dup backend", doc(fmt.Sprintf(m, "a", `["cpu","cpu"]`, "o/n")), false},
		{"bad repo", doc(fmt.Sprintf(m, "a", `["cpu"]`, "on")), false},
		{"gguf file", doc(gguf("/h/models/a/a.Q4_K_M.gguf", true)), true},
		{"gguf not yet downloaded", doc(gguf("/h/models/a", false)), true},
		{"downloaded gguf without its file", doc(gguf("/h/models/a", true)), false},
		{"unknown format", doc(strings.Replace(fmt.Sprintf(m, "a", `["cpu"]`, "o/n"), "safetensors", "onnx", 1)), false},
		{"no models", `{"version":"1.0","pool_id":"p","updated_at":"2025-10-09T12:00:00Z"}`, false},
		{"bad time", `{"version":"1.0","pool_id":"p","updated_at":"yesterday","models":[]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := catalogschema.ValidateDocument([]byte(tt.doc))
			if tt.valid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}
