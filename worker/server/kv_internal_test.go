package server

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/realmodel"
)

// The real engine's sessions, as Load wraps them, report their KV cache,
// so /health's kv_cache_bytes follows a running generation.
func TestEngineSessionReportsKVCache(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, realmodel.WriteGGUF(dir))
	b, err := Load(filepath.Join(dir, realmodel.GGUFFile), LoadOptions{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	sess := b.Model.NewSession()
	ks, ok := sess.(kvSized)
	require.True(t, ok, "%T does not report its KV cache", sess)
	require.Zero(t, ks.KVCacheBytes())
	_, err = sess.ForwardContext(context.Background(), realmodel.PromptIDs())
	require.NoError(t, err)
	require.Positive(t, ks.KVCacheBytes())
}
