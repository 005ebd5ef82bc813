package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hubmirror"
)

func TestHubFlags(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "o", "n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "o", "n", "config.json"), []byte(`{}`), 0o644))
	var h hubFlags
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	h.add(fs)
	require.NoError(t, fs.Parse([]string{"--gated", "o/n=hf_a,hf_b", "--rename", "old/n=o/n", "--rate-limit", "1", "--rate-limit-wait", "7"}))
	m := hubmirror.New(dir)
	require.NoError(t, h.apply(m))
	get := func(path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		m.ServeHTTP(w, req)
		return w
	}
	w := get("/o/n/resolve/main/config.json", "hf_a")
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "--rate-limit 1")
	assert.Equal(t, `"resolvers";r=0;t=7`, w.Header().Get("RateLimit"))
	assert.Equal(t, http.StatusOK, get("/o/n/resolve/main/config.json", "hf_b").Code, "an accepted token")
	assert.Equal(t, http.StatusForbidden, get("/o/n/resolve/main/config.json", "hf_c").Code, "not accepted")
	w = get("/api/models/old/n/revision/main", "")
	assert.Equal(t, http.StatusTemporaryRedirect, w.Code)
	assert.Equal(t, "/api/models/o/n/revision/main", w.Header().Get("Location"))

	for _, bad := range [][]string{{"--gated", "nope"}, {"--rename", "a/b"}, {"--rate-limit", "-1"}} {
		var h hubFlags
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		h.add(fs)
		require.NoError(t, fs.Parse(bad))
		assert.Error(t, h.apply(hubmirror.New(dir)), bad)
	}
}
