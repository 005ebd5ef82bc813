package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FakeGPU is a pretend CUDA device for pools that need a "cuda" host: an
// nvidia-smi on the pool's PATH answering the hive's two queries from a
// directory in which the Rust worker stand-in's cuda build registers its
// pid and memory (rustworker.EnvFakeGPU). It stays honest: a process is
// listed only while it runs and only if it registered, so a worker that
// ran on the CPU is not listed.
type FakeGPU struct {
	BinDir string // holds nvidia-smi; put it first on the pool's PATH
	Dir    string // registrations: one file per pid holding its bytes
}

// fakeGPUMiB is the device's memory.
const fakeGPUMiB = 24576

// NewFakeGPU writes the fake nvidia-smi under dir.
func NewFakeGPU(dir string) (*FakeGPU, error) {
	g := &FakeGPU{BinDir: filepath.Join(dir, "bin"), Dir: filepath.Join(dir, "gpu0")}
	for _, d := range []string{g.BinDir, g.Dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("fake gpu: %w", err)
		}
	}
	script := strings.NewReplacer("@DIR@", g.Dir, "@MIB@", fmt.Sprint(fakeGPUMiB)).Replace(fakeNvidiaSMI)
	if err := os.WriteFile(filepath.Join(g.BinDir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		return nil, fmt.Errorf("fake gpu: %w", err)
	}
	return g, nil
}

const fakeNvidiaSMI = `#!/bin/sh
# fake nvidia-smi of the rbee test bed: GPU 0 of @MIB@ MiB; its compute
# apps are the live processes registered in @DIR@.
apps() {
  for f in '@DIR@'/*; do
    [ -f "$f" ] || continue
    pid=$(basename "$f")
    kill -0 "$pid" 2>/dev/null || continue
    echo "$pid $(( ($(cat "$f") + 1048575) / 1048576 ))"
  done
}
case "$*" in
*--query-gpu=*)
  used=0
  for mib in $(apps | cut -d' ' -f2); do used=$((used + mib)); done
  echo "0, Fake GPU (rbee test bed), @MIB@, $((@MIB@ - used))"
  ;;
*--query-compute-apps=*)
  echo "pid, used_gpu_memory [MiB]"
  apps | while read -r pid mib; do echo "$pid, $mib MiB"; done
  ;;
*)
  echo "fake nvidia-smi: unsupported arguments: $*" >&2
  exit 2
  ;;
esac
`
