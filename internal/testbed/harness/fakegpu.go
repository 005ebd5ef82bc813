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

// MislabelledCUDA writes dir/llm-worker-rbee-cuda: a build without the
// cuda feature copied under the cuda name. Its --help is the cuda build's
// (so the hive's template check passes); it runs the CPU-only main binary,
// so nothing ever reaches the GPU.
func MislabelledCUDA(dir string, b *Bins) (string, error) {
	path := filepath.Join(dir, "llm-worker-rbee-cuda")
	script := "#!/bin/sh\n# the help of the cuda build, the behaviour of the main one\n" +
		"if [ \"$1\" = --help ]; then exec '" + filepath.Join(b.RustSeedDir(), "llm-worker-rbee-cuda") + "' --help; fi\n" +
		"args=''\nwhile [ $# -gt 0 ]; do case \"$1\" in --cuda-device) shift 2;; *) args=\"$args '$1'\"; shift;; esac; done\n" +
		"eval exec '" + filepath.Join(b.RustSeedDir(), "llm-worker-rbee") + "' $args\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("mislabelled cuda build: %w", err)
	}
	return path, nil
}
