package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hubmirror"
)

func runCLIEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := newApp(&out, &errb, func(k string) string { return env[k] })
	code = a.run(args)
	return code, out.String(), errb.String()
}

// Bad download input: one error line, a hint, the exit code, and the catalog
// exactly as it was.
func TestCLIDownloadBadInput(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "rbee-testing", "tiny")
	require.NoError(t, os.MkdirAll(repo, 0o755))
	for name, body := range map[string]string{"model.safetensors": "weights", "config.json": `{}`, "README.md": "# tiny"} {
		require.NoError(t, os.WriteFile(filepath.Join(repo, name), []byte(body), 0o644))
	}
	srv, err := hubmirror.Start(root)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	tests := []struct {
		name     string
		endpoint string
		register []string
		args     []string
		code     int
		errLine  string
		hint     string
	}{
		{"--connections 0", srv.URL, nil, []string{"--connections", "0"}, 2, "error: models download: --connections must be 1 to 64, got 0", "hint: use 1 for one stream"},
		{"an endpoint that is not a URL", "mirror.lan:8088", nil, nil, 1, `error: hub endpoint "mirror.lan:8088" (HF_ENDPOINT) is not an http(s) URL`, "hint: set HF_ENDPOINT"},
		{"an include glob that matches nothing", srv.URL, []string{"--include", "*.gguf"}, nil, 1,
			"error: no file of rbee-testing/tiny@main matches *.gguf; the repo has README.md, config.json, model.safetensors", "hint: register the model again with --include"},
		{"a revision the repo does not have", srv.URL, nil, []string{"--revision", "v9"}, 1, `error: revision "v9" of rbee-testing/tiny not found on the hub`, "hint: check --revision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"RBEE_HOME": filepath.Join(t.TempDir(), "home"), "HF_ENDPOINT": tt.endpoint}
			reg := append([]string{"models", "register", "tiny", "--name", "Tiny", "--repo", "rbee-testing/tiny", "--architecture", "llama"}, tt.register...)
			code, _, stderr := runCLIEnv(t, env, reg...)
			require.Equal(t, 0, code, stderr)
			catalogFile := filepath.Join(env["RBEE_HOME"], "models", "catalog.json")
			before, err := os.ReadFile(catalogFile)
			require.NoError(t, err)
			code, stdout, stderr := runCLIEnv(t, env, append([]string{"models", "download", "tiny"}, tt.args...)...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Empty(t, stdout)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			require.Len(t, lines, 2, stderr)
			assert.True(t, strings.HasPrefix(lines[0], tt.errLine), lines[0])
			assert.True(t, strings.HasPrefix(lines[1], tt.hint), lines[1])
			after, err := os.ReadFile(catalogFile)
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after), "catalog untouched")
			assert.NoDirExists(t, filepath.Join(env["RBEE_HOME"], "models", "tiny"))
		})
	}
}
