package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/syncio"
	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "llm-worker-rbee")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// callbackServer records ready callbacks.
func callbackServer(t *testing.T) (string, <-chan worker.ReadyCallback) {
	t.Helper()
	ch := make(chan worker.ReadyCallback, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cb worker.ReadyCallback
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&cb) != nil {
			http.Error(w, "bad callback", http.StatusBadRequest)
			return
		}
		ch <- cb
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/ready", ch
}

type workerProc struct {
	cmd    *exec.Cmd
	stderr *syncio.Buffer
	exited chan struct{}
	err    error // Wait's result, after exited
}

func startWorker(t *testing.T, bin string, args ...string) *workerProc {
	t.Helper()
	p := &workerProc{cmd: exec.Command(bin, args...), stderr: &syncio.Buffer{}, exited: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("worker stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

func greedyReq(job, prompt string, max int) worker.ExecuteRequest {
	r := worker.NewExecuteRequest(job, prompt, max)
	r.Temperature = 0
	return r
}

// runChecked executes req and checks the raw wire stream for conformance.
func runChecked(t *testing.T, uri string, req worker.ExecuteRequest) []worker.Event {
	t.Helper()
	body, err := json.Marshal(req)
	require.NoError(t, err)
	resp, err := http.Post(uri+"/execute", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, worker.ContentTypeSSE, resp.Header.Get("Content-Type"))
	evs, err := worker.CheckDecoder(req.JobID, worker.NewDecoder(resp.Body))
	require.NoError(t, err, "events: %+v", evs)
	return evs
}

// TestProcess drives the built binary as the hive does.
func TestProcess(t *testing.T) {
	bin := buildWorker(t)
	model := filepath.Join(t.TempDir(), "tiny-llama")
	require.NoError(t, tinymodel.Generate(model, tinymodel.Llama, tinymodel.DefaultSeed))
	cbURL, ready := callbackServer(t)
	port := freePort(t)
	p := startWorker(t, bin, "--worker-id", "w-test", "--model", model, "--port", strconv.Itoa(port),
		"--callback-url", cbURL, "--backend", "cpu", "--device", "0")

	var cb worker.ReadyCallback
	select {
	case cb = <-ready:
	case <-p.exited:
		t.Fatalf("worker exited before the ready callback: %v\n%s", p.err, p.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("no ready callback within 60 s\n%s", p.stderr.String())
	}
	assert.Equal(t, "w-test", cb.WorkerID)
	assert.Positive(t, cb.VRAMBytes)
	require.Equal(t, fmt.Sprintf("http://127.0.0.1:%d", port), cb.URI)
	c := worker.NewClient(cb.URI)
	ctx := context.Background()

	h, err := c.Health(ctx)
	require.NoError(t, err)
	assert.Equal(t, worker.Health{Status: "healthy", VRAMBytes: cb.VRAMBytes}, h)

	const prompt = "The quick brown fox"
	t.Run("greedy twice identical", func(t *testing.T) {
		a := runChecked(t, cb.URI, greedyReq("g1", prompt, 16))
		b := runChecked(t, cb.URI, greedyReq("g2", prompt, 16))
		assert.NotEmpty(t, worker.Text(a))
		assert.Equal(t, worker.Text(a), worker.Text(b))
		assert.Equal(t, a[len(a)-1].TokensOut, b[len(b)-1].TokensOut)
	})
	t.Run("seeded sampling twice identical", func(t *testing.T) {
		req := func(job string) worker.ExecuteRequest {
			r := worker.NewExecuteRequest(job, prompt, 16)
			r.Seed, r.TopK, r.TopP = worker.Seed(42), 40, 0.9
			return r
		}
		a := runChecked(t, cb.URI, req("s1"))
		b := runChecked(t, cb.URI, req("s2"))
		assert.Equal(t, worker.Text(a), worker.Text(b))
	})
	t.Run("bad requests then still serving", func(t *testing.T) {
		for _, tc := range []struct{ body, field string }{
			{`{"job_id":"x","prompt":`, ""},
			{`{"job_id":"x","prompt":"p","max_tokens":4,"temperature":-0.1}`, "temperature"},
			{`{"job_id":"x","prompt":"p","max_tokens":0}`, "max_tokens"},
			{`{"job_id":"x","prompt":"p","max_tokens":999999999}`, "max_tokens"},
			{`{"job_id":"x","prompt":"` + strings.Repeat("fox ", 3000) + `","max_tokens":4}`, "prompt"},
		} {
			resp, err := http.Post(cb.URI+"/execute", "application/json", strings.NewReader(tc.body))
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(b))
			ve, ok := worker.ParseValidationError(b)
			require.True(t, ok, string(b))
			assert.Equal(t, tc.field, ve.Errors[0].Field, string(b))
		}
		runChecked(t, cb.URI, greedyReq("after-bad", prompt, 4))
	})
	t.Run("disconnect cancels", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		st, err := c.Execute(cctx, greedyReq("long", prompt, 2000))
		require.NoError(t, err)
		for range 4 { // started + 3 tokens
			_, err := st.Next()
			require.NoError(t, err)
		}
		cancel()
		st.Close()
		require.Eventually(t, func() bool {
			return strings.Contains(p.stderr.String(), "job_id=long tokens_out=")
		}, 30*time.Second, 10*time.Millisecond)
		assert.Regexp(t, `job_id=long tokens_out=\d+ ms=\d+ stop_reason=CANCELLED`, p.stderr.String())
		runChecked(t, cb.URI, greedyReq("after-disconnect", prompt, 4))
	})
	t.Run("SIGTERM ends the running job and exits 0", func(t *testing.T) {
		st, err := c.Execute(ctx, greedyReq("term", prompt, 2000))
		require.NoError(t, err)
		defer st.Close()
		checker := worker.NewChecker("term")
		for range 2 { // started + 1 token
			ev, err := st.Next()
			require.NoError(t, err)
			require.NoError(t, checker.Add(ev))
		}
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		var last worker.Event
		for {
			ev, err := st.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			require.NoError(t, checker.Add(ev))
			last = ev
		}
		require.NoError(t, checker.Finish())
		assert.Equal(t, worker.StopCancelled, last.StopReason)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			t.Fatal("worker still running 15 s after SIGTERM")
		}
		require.NoError(t, p.err, "exit status 0")
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err, "port freed")
		require.NoError(t, ln.Close())
	})
}

// TestProcessCallbackFailureKeepsServing: an unreachable callback is logged
// and the worker serves anyway (the hive may fall back to /health).
func TestProcessCallbackFailureKeepsServing(t *testing.T) {
	bin := buildWorker(t)
	model := filepath.Join(t.TempDir(), "tiny-phi3")
	require.NoError(t, tinymodel.Generate(model, tinymodel.Phi3, tinymodel.DefaultSeed))
	port := freePort(t)
	dead := freePort(t)
	p := startWorker(t, bin, "--worker-id", "w2", "--model", model, "--port", strconv.Itoa(port),
		"--callback-url", fmt.Sprintf("http://127.0.0.1:%d/ready", dead), "--backend", "cpu", "--device", "0")
	uri := fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		h, err := worker.NewClient(uri).Health(context.Background())
		return err == nil && h.Status == worker.StatusHealthy
	}, 60*time.Second, 20*time.Millisecond, p.stderr.String())
	runChecked(t, uri, greedyReq("j", "hello", 4))
	require.Eventually(t, func() bool { return strings.Contains(p.stderr.String(), "ready callback failed; still serving") },
		30*time.Second, 20*time.Millisecond)
	runChecked(t, uri, greedyReq("j2", "hello", 4))
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	<-p.exited
	require.NoError(t, p.err)
}
