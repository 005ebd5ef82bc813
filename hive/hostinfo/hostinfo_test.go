package hostinfo_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hostinfo"
)

func TestParseNvidiaSMI(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want []hostinfo.GPU
		ok   bool
	}{
		{"none", "", []hostinfo.GPU{}, true},
		{"two", "0, NVIDIA GeForce RTX 3090, 24576, 23000\n1, Tesla T4, 15360, 15000\n",
			[]hostinfo.GPU{{0, "NVIDIA GeForce RTX 3090", 24576 << 20, 23000 << 20}, {1, "Tesla T4", 15360 << 20, 15000 << 20}}, true},
		{"comma in name", "0, Weird, GPU, 100, 50", []hostinfo.GPU{{0, "Weird, GPU", 100 << 20, 50 << 20}}, true},
		{"short line", "0, x, 1", nil, false},
		{"not a number", "0, x, [N/A], 5", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hostinfo.ParseNvidiaSMI(tt.out)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// fakeSMI writes a script standing in for nvidia-smi.
func fakeSMI(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nvidia-smi")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	return p
}

func TestCollectBackends(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Fatal("hostinfo tests need a POSIX shell")
	}
	tests := []struct {
		name         string
		p            hostinfo.Prober
		wantBackends []string
		wantGPUs     int
		wantWarning  bool
	}{
		{"cpu only", hostinfo.Prober{NvidiaSMI: "/nonexistent/nvidia-smi", GOOS: "linux", GOARCH: "amd64"}, []string{"cpu"}, 0, false},
		{"apple silicon", hostinfo.Prober{NvidiaSMI: "/nonexistent/nvidia-smi", GOOS: "darwin", GOARCH: "arm64"}, []string{"cpu", "metal"}, 0, false},
		{"intel mac", hostinfo.Prober{NvidiaSMI: "/nonexistent/nvidia-smi", GOOS: "darwin", GOARCH: "amd64"}, []string{"cpu"}, 0, false},
		{"cuda", hostinfo.Prober{NvidiaSMI: fakeSMI(t, `[ "$1 $2" = "--query-gpu=index,name,memory.total,memory.free --format=csv,noheader,nounits" ] || exit 7; echo "0, Tesla T4, 15360, 15000"`), GOOS: "linux", GOARCH: "amd64"}, []string{"cpu", "cuda"}, 1, false},
		{"smi fails", hostinfo.Prober{NvidiaSMI: fakeSMI(t, `echo "driver mismatch" >&2; exit 9`), GOOS: "linux", GOARCH: "amd64"}, []string{"cpu"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "not", "yet")
			info, err := tt.p.Collect(context.Background(), home)
			require.NoError(t, err)
			assert.Equal(t, tt.wantBackends, info.Backends)
			assert.Len(t, info.GPUs, tt.wantGPUs)
			assert.Equal(t, tt.wantWarning, len(info.Warnings) > 0, info.Warnings)
			assert.NotEmpty(t, info.Hostname)
			assert.Positive(t, info.CPUs)
			assert.Positive(t, info.RAMTotalBytes)
			assert.LessOrEqual(t, info.RAMAvailableBytes, info.RAMTotalBytes)
			assert.Positive(t, info.DiskFreeBytes)
		})
	}
}
