package rustworker_test

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Three binaries, exact clap flags; an unknown flag (the Go worker's
// --backend/--device) or a missing required one exits 2 with a usage error.
func TestBinariesAndFlags(t *testing.T) {
	tests := []struct {
		name, command string // binary, clap command name
		device        string // the GPU builds' extra flag
		notFlags      []string
	}{
		{"llm-worker-rbee", "llm-worker-rbee", "", []string{"--cuda-device", "--metal-device", "--backend", "--device", "--version"}},
		{"llm-worker-rbee-cuda", "llorch-cuda-candled [OPTIONS]", "--cuda-device <CUDA_DEVICE>", []string{"--metal-device", "--backend"}},
		{"llm-worker-rbee-metal", "llorch-metal-candled [OPTIONS]", "--metal-device <METAL_DEVICE>", []string{"--cuda-device", "--backend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(bin(t, tt.name), "--help").CombinedOutput()
			require.NoError(t, err)
			help := string(out)
			assert.Contains(t, help, "Usage: "+tt.command+" --worker-id")
			assert.Contains(t, help, "--worker-id <WORKER_ID> --model <MODEL> --port <PORT> --callback-url <CALLBACK_URL>")
			if tt.device != "" {
				assert.Contains(t, help, tt.device)
			}
			for _, f := range tt.notFlags {
				assert.NotContains(t, help, f)
			}

			base := []string{"--worker-id", "w", "--model", "/m", "--port", "1", "--callback-url", "http://x/ready"}
			cmd := exec.Command(bin(t, tt.name), append(base, "--backend", "cuda", "--device", "0")...)
			out, err = cmd.CombinedOutput()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 2, ee.ExitCode())
			assert.Contains(t, string(out), "error: unexpected argument '--backend' found")
			assert.Contains(t, string(out), "For more information, try '--help'.")

			out, err = exec.Command(bin(t, tt.name), "--worker-id", "w").CombinedOutput()
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 2, ee.ExitCode())
			assert.Contains(t, string(out), "the following required arguments were not provided:\n  --model <MODEL>\n  --port <PORT>\n  --callback-url <CALLBACK_URL>")
		})
	}
}
