package workers

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Profile is how the worker of one backend is started (DESIGN §5 "Worker
// profiles"): which binary, with which argument template, extra environment
// and memory factor, and what the hive must expect of its protocol.
type Profile struct {
	Backend string `json:"backend"`
	Name    string `json:"profile"` // the preset the values start from
	Bin     string `json:"bin"`     // as configured: a name looked up on PATH, or a path
	// Path is the executable Bin resolved to ("" = not found; BinError says why).
	Path     string   `json:"path"`
	BinError string   `json:"bin_error,omitempty"`
	Args     []string `json:"args"`
	// Env is added to the hive's environment for the worker.
	Env          map[string]string `json:"env,omitempty"`
	MemoryFactor float64           `json:"memory_factor"`
	// Quirks are the preset's known protocol deviations (rust-worker-seed.md).
	Quirks []string `json:"quirks,omitempty"`
	// Sources says where each value came from: "preset rust-seed",
	// "$RBEE_WORKER_BIN_CUDA", "<home>/worker-args.toml backends.cuda.args", …
	Sources map[string]string `json:"sources"`
	// Error is the configuration error of this backend (status reports it;
	// Spawn refuses with it).
	Error string `json:"error,omitempty"`
}

// Preset names.
const (
	PresetGo       = "go"
	PresetRustSeed = "rust-seed"
)

// Rust worker quirks of the seed era, as the status shows them.
const (
	QuirkCallbackBeforeBind = "callback-before-bind" // the port opens only after the callback is answered
	QuirkBindsAllInterfaces = "binds-0.0.0.0"
	QuirkBufferedStream     = "buffered-stream" // every event arrives after the last token
	QuirkStopAlwaysMax      = "stop-reason-always-max-tokens"
	QuirkF32Weights         = "f32-weights" // about 2× a BF16/F16 checkpoint in memory
	QuirkCPUOnly            = "cpu-only"    // the main binary runs on the CPU whatever it is told
)

// rustSeedFactor: F32 weights are 2× a 16-bit checkpoint, × DESIGN's 1.2 margin.
const rustSeedFactor = 2.4

// defaultFactor is DESIGN §3's margin over the model's bytes.
const defaultFactor = 1.2

// Presets lists the built-in preset names.
func Presets() []string { return []string{PresetGo, PresetRustSeed} }

// DefaultPreset is the preset of a backend with no profile configured: this
// module's worker for cpu, the Rust worker (the only one with GPU backends)
// for metal and cuda.
func DefaultPreset(backend string) string {
	if backend == BackendCPU {
		return PresetGo
	}
	return PresetRustSeed
}

// preset returns the built-in values of name for backend.
func preset(name, backend string) (Profile, bool) {
	p := Profile{Backend: backend, Name: name}
	switch name {
	case PresetGo:
		p.Bin, p.Args, p.MemoryFactor = DefaultBinary, DefaultArgs(), defaultFactor
	case PresetRustSeed:
		p.Bin, p.Args, p.MemoryFactor = RustBinary(backend), RustArgs(backend), rustSeedFactor
		p.Quirks = []string{QuirkCallbackBeforeBind, QuirkBindsAllInterfaces, QuirkBufferedStream, QuirkStopAlwaysMax, QuirkF32Weights}
		if backend == BackendCPU {
			p.Quirks = append(p.Quirks, QuirkCPUOnly)
		}
	default:
		return Profile{}, false
	}
	src := "preset " + name
	p.Sources = map[string]string{"profile": src, "bin": src, "args": src, "env": src, "memory_factor": src}
	return p, true
}

// RustBinary is the seed-era Rust worker binary of backend.
func RustBinary(backend string) string {
	switch backend {
	case BackendCUDA, BackendMetal:
		return DefaultBinary + "-" + backend
	}
	return DefaultBinary
}

// RustArgs is the seed-era Rust worker's command line for backend: four
// required flags, plus --cuda-device/--metal-device on the GPU builds.
func RustArgs(backend string) []string {
	args := []string{"--worker-id", "{id}", "--model", "{model}", "--port", "{port}", "--callback-url", "{callback}"}
	if f := DeviceFlag(backend); f != "" {
		args = append(args, f, "{gpu}")
	}
	return args
}

// DeviceFlag is the flag only a GPU build of the Rust worker has ("" for cpu).
func DeviceFlag(backend string) string {
	switch backend {
	case BackendCUDA, BackendMetal:
		return "--" + backend + "-device"
	}
	return ""
}

// Profile resolves the worker profile of backend: the preset (file
// `profile`, else DefaultPreset), then the file's values, then the
// environment overrides. The returned profile is filled as far as it could
// be also on error (status shows it); the error is a *Error coded
// WORKER_ARGS_INVALID (configuration) or WORKER_BINARY_NOT_FOUND.
func (m *Manager) Profile(backend string) (Profile, error) {
	p, err := m.profile(backend)
	if err == nil {
		err = m.resolveBin(&p)
	}
	if err != nil {
		p.Error = err.Error()
	}
	return p, err
}

func (m *Manager) profile(backend string) (Profile, error) {
	p, _ := preset(DefaultPreset(backend), backend)
	p.Sources["profile"] = "default for " + backend
	f, path, err := m.readProfileFile()
	if err != nil {
		return p, err
	}
	if f != nil {
		if err := f.apply(&p, path); err != nil {
			return p, err
		}
	}
	for _, key := range []string{"RBEE_WORKER_BIN_" + strings.ToUpper(backend), "RBEE_WORKER_BIN"} {
		if v := m.getenv(key); v != "" {
			p.Bin, p.Sources["bin"] = v, "$"+key
			break
		}
	}
	for _, key := range []string{"RBEE_WORKER_ARGS_" + strings.ToUpper(backend), "RBEE_WORKER_ARGS"} {
		if v := strings.TrimSpace(m.getenv(key)); v != "" {
			p.Args, p.Sources["args"] = strings.Fields(v), "$"+key
			break
		}
	}
	if err := checkPlaceholders(p.Args, p.Sources["args"]); err != nil {
		return p, err
	}
	return p, nil
}

// readProfileFile reads <home>/worker-args.toml; nil when there is none.
func (m *Manager) readProfileFile() (*profileFile, string, error) {
	path := filepath.Join(m.Home, ArgsFile)
	f, err := parseProfileFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, nil
	}
	return f, path, err
}

// resolveBin finds p.Bin: a path must be an executable file; a bare name is
// looked up on the manager's PATH.
func (m *Manager) resolveBin(p *Profile) error {
	upper := strings.ToUpper(p.Backend)
	hint := fmt.Sprintf("install %s on PATH, set bin in [backends.%s] of %s, or set RBEE_WORKER_BIN_%s (or RBEE_WORKER_BIN) to the worker executable",
		p.Bin, p.Backend, filepath.Join(m.Home, ArgsFile), upper)
	source := p.Sources["bin"]
	if strings.ContainsRune(p.Bin, filepath.Separator) {
		if err := checkExecutable(p.Bin); err != nil {
			p.BinError = err.Error()
			what := source + " = " + p.Bin
			if env, ok := strings.CutPrefix(source, "$"); ok {
				what = env + "=" + p.Bin
			}
			e := newError(CodeWorkerBinaryNotFound, hint, "%s is not usable", what)
			e.Err = err
			return e
		}
		p.Path = p.Bin
		return nil
	}
	for _, dir := range filepath.SplitList(m.getenv("PATH")) {
		if dir == "" {
			continue
		}
		if c := filepath.Join(dir, p.Bin); checkExecutable(c) == nil {
			p.Path = c
			return nil
		}
	}
	p.BinError = "not found on PATH"
	return newError(CodeWorkerBinaryNotFound, hint, "%s not found on PATH (bin from %s)", p.Bin, source)
}

// workerEnv is the worker's environment: the hive's plus the profile's.
func (m *Manager) workerEnv(p Profile) []string {
	env := slices.Clone(m.env())
	for _, k := range slices.Sorted(maps.Keys(p.Env)) {
		env = append(env, k+"="+p.Env[k])
	}
	return env
}

// Profiles resolves every backend's profile (for status and preflight).
func (m *Manager) Profiles() map[string]Profile {
	out := map[string]Profile{}
	for _, b := range []string{BackendCPU, BackendMetal, BackendCUDA} {
		out[b], _ = m.Profile(b)
	}
	return out
}
