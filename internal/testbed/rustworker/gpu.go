package rustworker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// EnvFakeGPU names the test bed's fake CUDA device: a directory the fake
// nvidia-smi reads. The cuda build registers its pid and memory there once
// it allocates (as a CUDA context shows in nvidia-smi); without it, the
// cuda build finds no device, as on a machine without a GPU.
const EnvFakeGPU = "RBEE_FAKE_GPU_DIR"

// device is the cuda build's registration with the fake GPU.
type device struct{ file string }

func openDevice(o Options, index int) (*device, error) {
	if o.Build.Backend != "cuda" {
		return &device{}, nil
	}
	dir := o.Getenv(EnvFakeGPU)
	if st, err := os.Stat(dir); dir == "" || err != nil || !st.IsDir() {
		return nil, errors.New(`DriverError(CUDA_ERROR_NO_DEVICE, "no CUDA-capable device is detected")`)
	}
	if index != 0 {
		return nil, fmt.Errorf(`DriverError(CUDA_ERROR_INVALID_DEVICE, "invalid device ordinal") for device %d`, index)
	}
	return &device{file: filepath.Join(dir, strconv.Itoa(o.Pid))}, nil
}

// allocate records the memory in use, for the fake nvidia-smi.
func (d *device) allocate(bytes int64) error {
	if d.file == "" {
		return nil
	}
	return os.WriteFile(d.file, []byte(strconv.FormatInt(bytes, 10)+"\n"), 0o644)
}

// release unregisters (a SIGTERM'd worker cannot: the fake drops dead pids).
func (d *device) release() {
	if d.file != "" {
		_ = os.Remove(d.file)
	}
}
