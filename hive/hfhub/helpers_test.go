package hfhub_test

import (
	"bytes"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/stretchr/testify/require"
)

const repoID = "rbee-testing/tiny"

// fixture is a mirror serving one generated repo.
type fixture struct {
	srv   *hubmirror.Server
	files map[string][]byte
	dest  string
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed+1))
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// newFixture serves model.safetensors (2 MiB), config.json, tokenizer.json
// and an excluded README.md.
func newFixture(t *testing.T, opts ...hubmirror.Option) *fixture {
	t.Helper()
	files := map[string][]byte{
		"model.safetensors": randomBytes(2<<20, 7),
		"config.json":       []byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":64}`),
		"tokenizer.json":    []byte(`{"version":"1.0","model":{"type":"BPE"}}`),
		"README.md":         []byte("# tiny\n"),
	}
	return newFixtureFiles(t, files, opts...)
}

func newFixtureFiles(t *testing.T, files map[string][]byte, opts ...hubmirror.Option) *fixture {
	t.Helper()
	root := t.TempDir()
	for name, b := range files {
		p := filepath.Join(root, filepath.FromSlash(repoID), filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	srv, err := hubmirror.Start(root, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return &fixture{srv: srv, files: files, dest: filepath.Join(t.TempDir(), "models", "tiny")}
}

// client returns a client with fast retries against the fixture.
func (f *fixture) client(t *testing.T, opts ...hfhub.Option) *hfhub.Client {
	base := []hfhub.Option{hfhub.WithRetries(6, time.Millisecond), hfhub.WithStallTimeout(2 * time.Second)}
	return hfhub.New(hfhub.Config{Endpoint: f.srv.URL}, append(base, opts...)...)
}

func (f *fixture) request() hfhub.Request {
	return hfhub.Request{Repo: repoID, Dir: f.dest}
}

// requireDownloaded checks every included file arrived intact and nothing else.
func (f *fixture) requireDownloaded(t *testing.T) {
	t.Helper()
	for name, want := range f.files {
		got, err := os.ReadFile(filepath.Join(f.dest, name))
		if !hfhub.InDefaultSet(name, nil) {
			require.True(t, os.IsNotExist(err), "%s is not included", name)
			continue
		}
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "%s content", name)
		_, err = os.Stat(filepath.Join(f.dest, name+".incomplete"))
		require.True(t, os.IsNotExist(err), "%s.incomplete is gone", name)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

// commit is the mirror's commit of the fixture repo.
func (f *fixture) commit(t *testing.T) string {
	t.Helper()
	r, err := f.srv.Repo(repoID)
	require.NoError(t, err)
	return r.Commit
}

// serveWith serves h on a free loopback port and returns its URL.
func serveWith(t *testing.T, h http.Handler) string { return serveOn(t, "127.0.0.1:0", h) }

// serveOn serves h on addr (127.0.0.2:0: another host to the client).
func serveOn(t *testing.T, addr string, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
