package engine_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/mmap"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// Mapped reports the weight files' bytes, all of them in 2 MiB pages but
// the unaligned ends where the kernel can (the worker logs it and warns
// when most are 4 KiB pages), for safetensors and GGUF alike.
func TestMapped(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, tinymodel.Generate(dir, tinymodel.Mistral, tinymodel.DefaultSeed)) // F32, two shards
	ggufs, err := tinymodel.GenerateGGUF(t.TempDir(), tinymodel.Llama, tinymodel.DefaultSeed, []quant.Type{quant.F32})
	require.NoError(t, err)
	shards, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	require.NoError(t, err)
	for _, c := range []struct {
		name  string
		files []string
		load  func() (*engine.Model, error)
	}{
		{"safetensors", shards, func() (*engine.Model, error) { return engine.Load(dir, engine.Options{Threads: 1}) }},
		{"gguf", ggufs, func() (*engine.Model, error) { return engine.LoadGGUF(ggufs[0], engine.Options{Threads: 1}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := c.load()
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })
			var size int64
			for _, f := range c.files {
				st, err := os.Stat(f)
				require.NoError(t, err)
				size += st.Size()
			}
			bytes, huge := m.Mapped()
			assert.Equal(t, size, bytes)
			assert.LessOrEqual(t, huge, bytes)
			if mmap.FileTHP(c.files[0]) {
				assert.GreaterOrEqual(t, huge, bytes-int64(len(c.files))*4<<20, "2 MiB pages but each file's unaligned ends")
			}
			t.Logf("%d of %d bytes in 2 MiB pages", huge, bytes)
		})
	}
}
