package workers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

// The worker identity is the binary's content hash: the same for the same
// bytes, another after a rebuild, "" for no binary; the binary never runs.
func TestBinaryVersion(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "llm-worker-rbee")
	marker := filepath.Join(dir, "ran")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755))
	m := &workers.Manager{Home: t.TempDir()}
	v := m.BinaryVersion(bin)
	assert.True(t, strings.HasPrefix(v, "llm-worker-rbee sha256:"), v)
	assert.Equal(t, v, m.BinaryVersion(bin), "cached")
	assert.NoFileExists(t, marker, "the binary is hashed, never run")

	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho rebuilt\n"), 0o755))
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(bin, later, later))
	assert.NotEqual(t, v, m.BinaryVersion(bin), "a rebuilt binary is another version")
	assert.Empty(t, m.BinaryVersion(filepath.Join(dir, "missing")))
	assert.Empty(t, m.BinaryVersion(""))
}
