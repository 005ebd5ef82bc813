package workers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hostinfo"
	"github.com/rbee-go/rbee/hive/workers"
)

// fakeSMI writes an nvidia-smi stand-in printing out.
func fakeSMI(t *testing.T, out string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nvidia-smi")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\ncat <<'EOF'\n"+out+"EOF\n"), 0o755))
	return p
}

func TestSystemHost(t *testing.T) {
	ctx := context.Background()
	twoGPUs := fakeSMI(t, "0, NVIDIA RTX 3090, 24576, 20000\n1, NVIDIA RTX 3060, 12288, 512\n")
	tests := []struct {
		name      string
		prober    hostinfo.Prober
		backend   string
		gpu       int
		available bool
	}{
		{"cpu always", hostinfo.Prober{NvidiaSMI: "/nonexistent"}, "cpu", 0, true},
		{"metal on apple silicon", hostinfo.Prober{GOOS: "darwin", GOARCH: "arm64"}, "metal", 0, true},
		{"metal on intel mac", hostinfo.Prober{GOOS: "darwin", GOARCH: "amd64"}, "metal", 0, false},
		{"metal on linux", hostinfo.Prober{GOOS: "linux", GOARCH: "arm64"}, "metal", 0, false},
		{"cuda gpu listed", hostinfo.Prober{NvidiaSMI: twoGPUs}, "cuda", 1, true},
		{"cuda gpu not listed", hostinfo.Prober{NvidiaSMI: twoGPUs}, "cuda", 2, false},
		{"cuda without nvidia-smi", hostinfo.Prober{NvidiaSMI: "/nonexistent/nvidia-smi"}, "cuda", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := workers.SystemHost{Prober: tt.prober}.Available(ctx, tt.backend, tt.gpu)
			if tt.available {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
	free, err := workers.SystemHost{Prober: hostinfo.Prober{NvidiaSMI: twoGPUs}}.FreeVRAM(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, uint64(512)<<20, free)
	ram, err := workers.SystemHost{}.FreeRAM(ctx)
	require.NoError(t, err)
	assert.Positive(t, ram)
}

// The real host probe refuses a model larger than the machine's free RAM:
// a sparse file makes a model of 2 TiB on disk without using the disk.
func TestSpawnRefusesAModelLargerThanRAM(t *testing.T) {
	f := newFixture(t, "both")
	f.m.Host = workers.SystemHost{}
	big, err := os.Create(filepath.Join(f.catalog["tiny"].Path, "model-00002-of-00002.safetensors"))
	require.NoError(t, err)
	require.NoError(t, big.Truncate(2<<40))
	require.NoError(t, big.Close())
	_, err = f.spawn(t, 0)
	we := requireCode(t, err, workers.CodeInsufficientRAM)
	assert.Contains(t, we.Message, "2.0 TiB on disk")
	assert.Empty(t, f.pids(t))
}
