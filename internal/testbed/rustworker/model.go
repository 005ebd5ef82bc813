package rustworker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

// Model is a loaded model as the seed worker holds it.
type Model struct {
	Arch      string // model_type, else architectures[0]
	engine    *engine.Model
	tok       *tokenizer.Tokenizer
	eos       []int
	sets      []*safetensors.Set
	Mapped    int64 // bytes of every *.safetensors memory-mapped
	F32Bytes  int64 // weight bytes after widening to F32
	heads     int
	mu        sync.Mutex      // one generation at a time
	persisted *engine.Session // qwen2/mistral: the one cache, never reset
}

// cacheNeverReset: the architectures whose KV cache the seed worker keeps
// across requests.
func cacheNeverReset(arch string) bool { return arch == "qwen2" || arch == "mistral" }

// supported is what the seed worker's model factory accepts.
func supported(arch string) bool {
	return arch == "llama" || cacheNeverReset(arch)
}

// ErrUnsupported is an architecture the seed worker refuses at start.
var ErrUnsupported = errors.New("Unsupported model architecture")

// archOf reads the architecture as the seed worker does: model_type, else
// architectures[0], lower-cased without the ForCausalLM suffix.
func archOf(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", fmt.Errorf("Failed to read config.json: %w", err)
	}
	var c struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("Failed to parse config.json: %w", err)
	}
	if c.ModelType != "" {
		return c.ModelType, nil
	}
	if len(c.Architectures) > 0 {
		return strings.ToLower(strings.TrimSuffix(c.Architectures[0], "ForCausalLM")), nil
	}
	return "", errors.New("config.json has neither model_type nor architectures")
}

// weightFiles are the files mapped: every *.safetensors of a directory (a
// folder with two copies of the weights maps both), or the one file.
func weightFiles(path string) (dir string, files []string, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", nil, fmt.Errorf("Model path not found: %s", path)
	}
	if !st.IsDir() {
		return filepath.Dir(path), []string{path}, nil
	}
	files, _ = filepath.Glob(filepath.Join(path, "*.safetensors"))
	sort.Strings(files)
	if len(files) == 0 {
		return "", nil, fmt.Errorf("No safetensors files found at %s", path)
	}
	return path, files, nil
}

// Load loads the model at path with every weight widened to F32.
func Load(path string, logf func(level, format string, args ...any)) (*Model, error) {
	dir, files, err := weightFiles(path)
	if err != nil {
		return nil, err
	}
	arch, err := archOf(dir)
	if err != nil {
		return nil, err
	}
	if !supported(arch) {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, arch)
	}
	cfg, err := engine.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("Failed to load tokenizer.json: %w", err)
	}
	m := &Model{Arch: arch, tok: tok, heads: cfg.Heads}
	tensors := engine.TensorMap{}
	for _, f := range files {
		set, err := safetensors.Open(f)
		if err != nil {
			m.closeSets()
			return nil, err
		}
		m.sets = append(m.sets, set)
		m.Mapped += set.Bytes()
		for _, name := range set.Names() {
			t, _ := set.Tensor(name)
			wide, err := toF32(t)
			if err != nil {
				m.closeSets()
				return nil, err
			}
			tensors[name] = wide
			m.F32Bytes += int64(len(wide.Data))
		}
	}
	logf("INFO", "memory-mapped %d safetensors file(s), %d bytes; weights loaded as F32, %d bytes", len(files), m.Mapped, m.F32Bytes)
	if m.engine, err = engine.New(cfg, tensors, engine.Options{}); err != nil {
		m.closeSets()
		return nil, err
	}
	m.eos = slices.Clone(cfg.EOS)
	if id, ok := tok.EOS(); ok && !slices.Contains(m.eos, id) {
		m.eos = append(m.eos, id)
	}
	return m, nil
}

// toF32 widens a tensor as candle's VarBuilder does for DType::F32.
func toF32(t safetensors.Tensor) (safetensors.Tensor, error) {
	if t.DType == safetensors.F32 {
		return safetensors.Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape, Data: slices.Clone(t.Data)}, nil
	}
	v, err := safetensors.ToF32(t)
	if err != nil {
		return safetensors.Tensor{}, err
	}
	return safetensors.FromF32(t.Name, safetensors.F32, t.Shape, v)
}

func (m *Model) closeSets() {
	for _, s := range m.sets {
		_ = s.Close()
	}
}

// Close releases the model.
func (m *Model) Close() error {
	err := m.engine.Close()
	m.closeSets()
	return err
}
