package rustworker_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/syncio"
	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

func bin(t *testing.T, name string) string {
	t.Helper()
	b, err := harness.Build()
	require.NoError(t, err)
	return filepath.Join(b.RustSeedDir(), name)
}

// model generates a tiny model of arch into a fresh folder.
func model(t *testing.T, arch tinymodel.Arch) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), string(arch))
	require.NoError(t, tinymodel.Generate(dir, arch, tinymodel.DefaultSeed))
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a running stand-in.
type proc struct {
	cmd    *exec.Cmd
	out    syncio.Buffer
	port   int
	exited chan struct{}
}

// callbackSink records callbacks; onCallback runs inside the handler,
// before the reply (status is the reply's code).
type callbackSink struct {
	srv        *httptest.Server
	mu         sync.Mutex
	bodies     []map[string]any
	status     int
	onCallback func()
}

func newSink(t *testing.T, status int) *callbackSink {
	s := &callbackSink{status: status}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		f := s.onCallback
		s.mu.Unlock()
		if f != nil {
			f()
		}
		w.WriteHeader(s.status)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *callbackSink) calls() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies...)
}

func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{exited: make(chan struct{})}
	p.cmd = exec.Command(bin(t, name), args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	require.NoError(t, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// startWorker starts name on a model with a callback sink, the way a hive does.
func startWorker(t *testing.T, name, modelDir string, sink *callbackSink, env ...string) *proc {
	t.Helper()
	port := freePort(t)
	args := []string{"--worker-id", "w-1", "--model", modelDir, "--port", strconv.Itoa(port), "--callback-url", sink.srv.URL + "/ready"}
	if name != "llm-worker-rbee" {
		args = append(args, "--"+strings.TrimPrefix(name, "llm-worker-rbee-")+"-device", "0")
	}
	p := start(t, name, env, args...)
	p.port = port
	return p
}

// waitHealthy waits until /health answers.
func (p *proc) waitHealthy(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(p.url() + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 60*time.Second, 20*time.Millisecond, "worker never served /health; log:\n%s", p.out.String())
}

func (p *proc) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// wait returns the exit status once the process ended.
func (p *proc) wait(t *testing.T) *os.ProcessState {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("still running; log:\n%s", p.out.String())
	}
	return p.cmd.ProcessState
}

func post(t *testing.T, url, contentType, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func signaled(st *os.ProcessState) (syscall.Signal, bool) {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

func itoa(n int) string { return strconv.Itoa(n) }
