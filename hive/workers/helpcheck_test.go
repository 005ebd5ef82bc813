package workers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

// clapHelp is the help of the seed-era Rust llm-worker-rbee-cuda (clap 4;
// its command is named llorch-cuda-candled).
const clapHelp = `CUDA GPU Candle-based multi-model worker daemon

Usage: llorch-cuda-candled [OPTIONS] --worker-id <WORKER_ID> --model <MODEL> --port <PORT> --callback-url <CALLBACK_URL>

Options:
      --worker-id <WORKER_ID>        Worker ID (UUID) - assigned by pool-managerd
      --model <MODEL>                Model file path (GGUF or ` + "`SafeTensors`" + ` format)
      --port <PORT>                  HTTP server port - assigned by pool-managerd
      --callback-url <CALLBACK_URL>  Pool manager callback URL - where to report ready status
      --cuda-device <CUDA_DEVICE>    CUDA device ID (default: 0) [default: 0]
  -h, --help                         Print help
`

func TestParseHelp(t *testing.T) {
	h := workers.ParseHelp(clapHelp)
	assert.Equal(t, []string{"--worker-id", "--model", "--port", "--callback-url"}, h.Required)
	assert.ElementsMatch(t, []string{"--worker-id", "--model", "--port", "--callback-url", "--cuda-device", "--help", "--h"}, h.Flags)

	goFlag := "Usage of double:\n  -mode string\n    \t(required)\n  -port int\n"
	h = workers.ParseHelp(goFlag)
	assert.Equal(t, []string{"--mode", "--port"}, h.Flags)

	pflag := "      --worker-id string   worker id, echoed in the ready callback (required)\n      --device int   device index\n"
	h = workers.ParseHelp(pflag)
	assert.Equal(t, []string{"--worker-id"}, h.Required)
}

// helpScript is a worker binary whose --help prints help (and counts its
// runs in count); anything else runs the test double.
func helpScript(t *testing.T, help string) (bin, count string) {
	t.Helper()
	dir := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	helpFile, count := filepath.Join(dir, "help.txt"), filepath.Join(dir, "count")
	require.NoError(t, os.WriteFile(helpFile, []byte(help), 0o644))
	bin = filepath.Join(dir, "worker")
	script := "#!/bin/sh\nif [ \"$1\" = --help ]; then echo run >> '" + count + "'; cat '" + helpFile + "'; exit 0; fi\nexec '" + exe + "' \"$@\"\n"
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o755))
	return bin, count
}

func TestTemplateCheckRefuses(t *testing.T) {
	rustCPU := strings.ReplaceAll(strings.ReplaceAll(clapHelp, "llorch-cuda-candled [OPTIONS]", "llm-worker-rbee"),
		"      --cuda-device <CUDA_DEVICE>    CUDA device ID (default: 0) [default: 0]\n", "")
	tests := []struct {
		name, help, backend, args string
		code                      workers.Code
		msg                       string
	}{
		{"flag the help does not list", rustCPU, "cpu", "", workers.CodeWorkerArgsInvalid, "uses --backend, which `worker --help` does not list"},
		{"required flag omitted", clapHelp, "cuda", "--worker-id {id} --model {model} --port {port} --cuda-device {gpu}", workers.CodeWorkerArgsInvalid, "omits --callback-url, which `worker --help` marks required"},
		{"main binary on cuda", rustCPU, "cuda", "--worker-id {id} --model {model} --port {port} --callback-url {callback}", workers.CodeBackendBinaryMismatch, "is not a cuda build: its --help lists no --cuda-device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, _ := helpScript(t, tt.help)
			f := newFixture(t, "both", "RBEE_WORKER_BIN="+bin, "RBEE_WORKER_ARGS="+tt.args)
			_, err := f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: tt.backend, ModelID: "tiny", Port: freePort(t)})
			we := requireCode(t, err, tt.code)
			assert.Contains(t, we.Message, tt.msg)
			assert.NotEmpty(t, we.Hint)
			assert.Empty(t, f.pids(t), "nothing spawned")
		})
	}
}

// --help runs once per binary (path + mtime): a rebuilt binary is read again.
func TestTemplateCheckCachesHelp(t *testing.T) {
	help := "Usage: worker [OPTIONS] --worker-id <ID>\n  --mode <M>\n  --worker-id <ID>\n  --model <M>\n  --port <P>\n  --callback-url <U>\n  --backend <B>\n  --device <D>\n"
	bin, count := helpScript(t, help)
	f := newFixture(t, "both", "RBEE_WORKER_BIN="+bin)
	runs := func() int {
		b, err := os.ReadFile(count)
		require.NoError(t, err)
		return strings.Count(string(b), "run")
	}
	spawnStop := func() {
		res, err := f.spawn(t, 20*time.Second)
		require.NoError(t, err)
		_, err = f.m.Stop(context.Background(), res.ID, 5*time.Second)
		require.NoError(t, err)
	}
	spawnStop()
	spawnStop()
	assert.Equal(t, 1, runs())
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(bin, later, later))
	spawnStop()
	assert.Equal(t, 2, runs())
}
