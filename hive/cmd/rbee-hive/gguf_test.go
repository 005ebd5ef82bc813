package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/worker/realmodel"
)

// TestCLIGGUF: a GGUF repo with two .gguf files; --include '*.gguf' is
// refused with one error line naming both and a hint, before any byte is
// fetched; an --include naming one file downloads it as a gguf entry.
func TestCLIGGUF(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, realmodel.WriteHub(root))
	repoDir := filepath.Join(root, filepath.FromSlash(realmodel.GGUFRepo))
	require.NoError(t, os.WriteFile(filepath.Join(repoDir, "stories260K-Q8_0.gguf"), []byte("GGUF"), 0o644))
	srv, err := hubmirror.Start(root)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	home := filepath.Join(t.TempDir(), "home")
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		env := map[string]string{"RBEE_HOME": home, "HF_ENDPOINT": srv.URL}
		code := newApp(&out, &errb, func(k string) string { return env[k] }).run(args)
		return code, out.String(), errb.String()
	}
	register := func(id, include string) {
		code, _, stderr := cli("models", "register", id, "--name", id, "--repo", realmodel.GGUFRepo, "--architecture", "llama", "--include", include)
		require.Equal(t, 0, code, stderr)
	}

	register("both", "*.gguf")
	code, stdout, stderr := cli("models", "download", "both")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	require.Len(t, lines, 2, stderr)
	assert.Equal(t, "error: --include '*.gguf' selects 2 .gguf files of "+realmodel.GGUFRepo+"@main, a GGUF model is one file: stories260K-Q8_0.gguf, stories260K.gguf", lines[0])
	assert.Equal(t, "hint: register it with an --include that matches one of them, e.g. --include 'stories260K-Q8_0.gguf'", lines[1])
	assert.NoDirExists(t, filepath.Join(home, "models", "both"))

	register("one", realmodel.GGUFFile)
	code, _, stderr = cli("models", "download", "one")
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr = cli("--json", "models", "catalog")
	require.Equal(t, 0, code, stderr)
	var doc catalog.Catalog
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	m := doc.Find("one")
	require.NotNil(t, m)
	assert.Equal(t, "gguf", m.Format)
	assert.Equal(t, filepath.Join(home, "models", "one", realmodel.GGUFFile), m.Path)
	assert.True(t, m.Downloaded)
	assert.Equal(t, "gguf", doc.Find("both").Format, "registered with a .gguf --include")
}
