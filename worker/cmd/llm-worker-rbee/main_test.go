package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tinymodel"
)

func TestCLIStartupErrors(t *testing.T) {
	good := filepath.Join(t.TempDir(), "tiny-llama")
	require.NoError(t, tinymodel.Generate(good, tinymodel.Llama, tinymodel.DefaultSeed))
	badArch := filepath.Join(t.TempDir(), "gpt2")
	require.NoError(t, os.CopyFS(badArch, os.DirFS(good)))
	cfg, err := os.ReadFile(filepath.Join(good, "config.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(badArch, "config.json"), bytes.Replace(cfg, []byte("LlamaForCausalLM"), []byte("GPT2LMHeadModel"), 1), 0o644))
	corrupt := filepath.Join(t.TempDir(), "corrupt")
	require.NoError(t, os.CopyFS(corrupt, os.DirFS(good)))
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, "model.safetensors"), []byte("garbage"), 0o644))

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	base := []string{"--worker-id", "w1", "--port", "0", "--device", "0"}
	tests := []struct {
		name   string
		args   []string
		code   int
		errMsg string
		hint   string
	}{
		{"cuda backend", append(base, "--model", good, "--backend", "cuda"), 1, `error: backend "cuda" is not supported by the Go worker`, "hint: this Go worker serves --backend cpu"},
		{"metal backend", append(base, "--model", good, "--backend", "metal"), 1, `error: backend "metal" is not supported by the Go worker`, "RBEE_WORKER_BIN_METAL"},
		{"missing model folder", append(base, "--model", filepath.Join(t.TempDir(), "nope")), 1, "error: cannot load model: ", "hint: --model takes"},
		{"empty model folder", append(base, "--model", t.TempDir()), 1, "config.json", "hint: --model takes"},
		{"corrupt weights", append(base, "--model", corrupt), 1, "model.safetensors", "hint: --model takes"},
		{"unsupported architecture", append(base, "--model", badArch), 1, `"GPT2LMHeadModel"`, "hint: the Go worker runs LlamaForCausalLM"},
		{"port in use", []string{"--worker-id", "w1", "--model", good, "--port", busyPort}, 1, "error: cannot listen on 127.0.0.1 port " + busyPort, "hint: is the port taken?"},
		{"no worker id", []string{"--model", good}, 2, "error: --worker-id is required", "hint: llm-worker-rbee --help"},
		{"no model", []string{"--worker-id", "w"}, 2, "error: --model is required", "hint:"},
		{"unknown flag", []string{"--worker-id", "w", "--model", good, "--gpu", "1"}, 2, "error: unknown flag: --gpu", "hint:"},
		{"bad port", []string{"--worker-id", "w", "--model", good, "--port", "70000"}, 2, "error: --port 70000 is out of range", "hint:"},
		{"stray argument", []string{"--worker-id", "w", "--model", good, "extra"}, 2, `error: unexpected argument "extra"`, "hint:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requireStartupError(t, tt.args, tt.code, tt.errMsg, tt.hint) })
	}
}

// requireStartupError runs the CLI and checks it exits with code after one
// error line containing errMsg, and a hint containing hint.
func requireStartupError(t *testing.T, args []string, code int, errMsg, hint string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	got := run(context.Background(), args, &stdout, &stderr)
	assert.Equal(t, code, got, stderr.String())
	assert.Empty(t, stdout.String())
	var errLines []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "error: ") {
			errLines = append(errLines, l)
		}
	}
	require.Len(t, errLines, 1, "one error line: %s", stderr.String())
	assert.Contains(t, errLines[0], errMsg)
	assert.Contains(t, stderr.String(), hint)
}

func TestCLIHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--help"}, &stdout, &stderr))
	for _, want := range []string{"--worker-id", "--model", "--port", "--callback-url", "--backend", "--device", "--host", "Examples:", "curl"} {
		assert.Contains(t, stdout.String(), want)
	}
	stdout.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"--version"}, &stdout, &stderr))
	assert.Regexp(t, `^llm-worker-rbee \d+\.\d+\.\d+ `, stdout.String())
	assert.Empty(t, stderr.String())
}
