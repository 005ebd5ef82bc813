package rustworker_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	psnet "github.com/shirou/gopsutil/v4/net"

	"github.com/rbee-go/rbee/internal/testbed/rustworker"
	"github.com/rbee-go/rbee/worker/safetensors"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// The callback comes before the port is bound; the port opens only after
// the reply, on 0.0.0.0; vram_bytes is 0 on the CPU and the uri names
// localhost.
func TestCallbackBeforeBind(t *testing.T) {
	sink := newSink(t, http.StatusOK)
	var p *proc
	portOpenAtCallback := make(chan bool, 1)
	sink.onCallback = func() {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p.port), time.Second)
		if err == nil {
			c.Close()
		}
		portOpenAtCallback <- err == nil
	}
	sink.mu.Lock()
	p = startWorker(t, "llm-worker-rbee", model(t, tinymodel.Llama), sink)
	sink.mu.Unlock()
	p.waitHealthy(t)
	assert.False(t, <-portOpenAtCallback, "the port was open at callback time")
	calls := sink.calls()
	require.Len(t, calls, 1)
	assert.Equal(t, map[string]any{"worker_id": "w-1", "vram_bytes": float64(0), "uri": fmt.Sprintf("http://localhost:%d", p.port)}, calls[0])

	conns, err := psnet.ConnectionsPidWithContext(context.Background(), "tcp", int32(p.cmd.Process.Pid))
	require.NoError(t, err)
	var bound []string
	for _, c := range conns {
		if c.Status == "LISTEN" {
			bound = append(bound, c.Laddr.IP)
		}
	}
	assert.Equal(t, []string{"0.0.0.0"}, bound, "binds all interfaces")
}

// A failed callback (a non-2xx reply, or nobody listening) is fatal: exit
// 1, and the port never opens.
func TestFailedCallbackExits(t *testing.T) {
	for _, tt := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"500 reply", func(t *testing.T) string { return newSink(t, http.StatusInternalServerError).srv.URL + "/ready" }},
		{"connection refused", func(t *testing.T) string { return "http://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/ready" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			port := freePort(t)
			p := start(t, "llm-worker-rbee", nil, "--worker-id", "w", "--model", model(t, tinymodel.Llama),
				"--port", strconv.Itoa(port), "--callback-url", tt.url(t))
			st := p.wait(t)
			assert.Equal(t, 1, st.ExitCode(), p.out.String())
			assert.Contains(t, p.out.String(), "Error: Failed to send ready callback")
			assert.NotContains(t, p.out.String(), "listening")
		})
	}
}

// Phi-3 is refused at start with the worker's own message, exit 1.
func TestPhi3Refused(t *testing.T) {
	p := startWorker(t, "llm-worker-rbee", model(t, tinymodel.Phi3), newSink(t, 200))
	st := p.wait(t)
	assert.Equal(t, 1, st.ExitCode())
	assert.Contains(t, p.out.String(), "Error: Unsupported model architecture: phi3\n")
}

// Weights are widened to F32 (2× the BF16 checkpoint), and every
// *.safetensors of the folder is mapped: two copies map both.
func TestF32LoadingMapsEveryFile(t *testing.T) {
	dir := model(t, tinymodel.Llama)
	set, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	var bf16 int64
	for _, n := range set.Names() {
		tn, _ := set.Tensor(n)
		require.Equal(t, safetensors.BF16, tn.DType)
		bf16 += int64(len(tn.Data))
	}
	mapped := set.Bytes()
	require.NoError(t, set.Close())

	raw, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model-copy.safetensors"), raw, 0o644))
	p := startWorker(t, "llm-worker-rbee", dir, newSink(t, 200))
	p.waitHealthy(t)
	assert.Contains(t, p.out.String(), fmt.Sprintf("memory-mapped 2 safetensors file(s), %d bytes; weights loaded as F32, %d bytes", 2*mapped, 2*2*bf16))
}

// Only SIGINT is handled; SIGTERM kills at once.
func TestSignals(t *testing.T) {
	dir := model(t, tinymodel.Llama)
	p := startWorker(t, "llm-worker-rbee", dir, newSink(t, 200))
	p.waitHealthy(t)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	sig, ok := signaled(p.wait(t))
	assert.True(t, ok && sig == syscall.SIGTERM, "killed by SIGTERM, not a clean exit")
	assert.NotContains(t, p.out.String(), "Shutdown")

	p = startWorker(t, "llm-worker-rbee", dir, newSink(t, 200))
	p.waitHealthy(t)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	assert.Equal(t, 0, p.wait(t).ExitCode())
	assert.Contains(t, p.out.String(), "Shutdown signal received (SIGINT)")
}

// The cuda build needs the (fake) GPU, registers with it, and reports the
// F32 weights as vram_bytes; without a device it exits 1.
func TestCUDABuildUsesTheFakeGPU(t *testing.T) {
	gpu := t.TempDir()
	sink := newSink(t, 200)
	p := startWorker(t, "llm-worker-rbee-cuda", model(t, tinymodel.Llama), sink, rustworker.EnvFakeGPU+"="+gpu)
	p.waitHealthy(t)
	reg, err := os.ReadFile(filepath.Join(gpu, strconv.Itoa(p.cmd.Process.Pid)))
	require.NoError(t, err, "registered with the GPU")
	vram, err := strconv.ParseInt(strings.TrimSpace(string(reg)), 10, 64)
	require.NoError(t, err)
	assert.Positive(t, vram)
	assert.Equal(t, float64(vram), sink.calls()[0]["vram_bytes"])
	_, body := get(t, p.url()+"/health")
	assert.JSONEq(t, fmt.Sprintf(`{"status":"healthy","vram_bytes":%d}`, vram), body)

	p = startWorker(t, "llm-worker-rbee-cuda", model(t, tinymodel.Llama), sink, rustworker.EnvFakeGPU+"=")
	assert.Equal(t, 1, p.wait(t).ExitCode())
	assert.Contains(t, p.out.String(), "no CUDA-capable device is detected")
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
