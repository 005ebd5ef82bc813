package tinymodel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// GGUFTypes are the tensor types rbee-tinymodel writes GGUF files in.
var GGUFTypes = []quant.Type{quant.F32, quant.Q8_0, quant.Q4_K}

// GGUFRepo is the hub repo of a tiny model's GGUF files ("rbee-testing/tiny-llama-GGUF").
func GGUFRepo(r Repo) string { return r.Repo + "-GGUF" }

// GGUFFile is the file name of one quantization ("tiny-llama-Q8_0.gguf").
func GGUFFile(r Repo, t quant.Type) string { return r.ID + "-" + t.String() + ".gguf" }

// GGUFArch is the general.architecture llama.cpp knows the family by:
// Mistral (v0.1 layout) is a llama model to llama.cpp.
func GGUFArch(a Arch) string {
	if a == Mistral {
		return "llama"
	}
	return string(a)
}

// ParseGGUFTypes reads a list like "F32,Q8_0,Q4_K".
func ParseGGUFTypes(list string) ([]quant.Type, error) {
	byName := map[string]quant.Type{}
	for _, t := range quant.Supported() {
		byName[t.String()] = t
	}
	var out []quant.Type
	for _, name := range strings.Split(list, ",") {
		t, ok := byName[strings.ToUpper(strings.TrimSpace(name))]
		if !ok {
			return nil, fmt.Errorf("unknown GGUF type %q (known: %s)", name, quant.SupportedNames())
		}
		out = append(out, t)
	}
	return out, nil
}

// GenerateGGUF writes dir/<GGUFFile> for each type of the tiny model of
// arch and returns the paths.
func GenerateGGUF(dir string, arch Arch, seed int64, types []quant.Type) ([]string, error) {
	r, ok := Lookup(string(arch))
	if !ok {
		return nil, fmt.Errorf("tiny model: unknown arch %q (known: llama, qwen2, phi3, mistral)", arch)
	}
	s, err := SpecFor(arch)
	if err != nil {
		return nil, err
	}
	src, err := newGGUFSource(s, seed)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tiny model: %w", err)
	}
	var paths []string
	for _, t := range types {
		p := filepath.Join(dir, GGUFFile(r, t))
		if err := src.write(p, t, r.ID); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// GenerateAllGGUF writes the four GGUF repos as root/rbee-testing/tiny-*-GGUF.
func GenerateAllGGUF(root string, seed int64, types []quant.Type) ([]string, error) {
	var paths []string
	for _, r := range Repos() {
		p, err := GenerateGGUF(filepath.Join(root, filepath.FromSlash(GGUFRepo(r))), r.Arch, seed, types)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", GGUFRepo(r), err)
		}
		paths = append(paths, p...)
	}
	return paths, nil
}

// WriteGGUF writes the model of spec s as one GGUF file with its 2-D
// weights in type t (see tensorType), atomically.
func WriteGGUF(path string, s Spec, seed int64, t quant.Type, name string) error {
	src, err := newGGUFSource(s, seed)
	if err != nil {
		return err
	}
	return src.write(path, t, name)
}

// BuildGGUF returns a Writer holding the model of spec s: the same weights
// as the safetensors folder (decoded from its dtype), with llama.cpp's
// metadata and tensor names.
func BuildGGUF(s Spec, seed int64, t quant.Type, name string) (*gguf.Writer, error) {
	src, err := newGGUFSource(s, seed)
	if err != nil {
		return nil, err
	}
	return src.writer(t, name)
}

// ggufSource holds what every quantization of one model shares: the
// weights and the tokenizer metadata (parsing tokenizer.json is the slow part).
type ggufSource struct {
	s       Spec
	tensors []safetensors.Tensor
	vocab   []kv
}

func newGGUFSource(s Spec, seed int64) (*ggufSource, error) {
	tensors, err := Weights(s, seed)
	if err != nil {
		return nil, err
	}
	tok, tokCfg, err := tokenizerFiles(s.Tokenizer)
	if err != nil {
		return nil, err
	}
	vocab, err := vocabKVs(tok, tokCfg, vocabOptions(s))
	if err != nil {
		return nil, fmt.Errorf("tiny model: %w", err)
	}
	return &ggufSource{s: s, tensors: tensors, vocab: vocab}, nil
}

func (src *ggufSource) writer(t quant.Type, name string) (*gguf.Writer, error) {
	w := gguf.NewWriter()
	if err := addAll(w, append(hparams(src.s, t, name), src.vocab...)); err != nil {
		return nil, err
	}
	for _, st := range src.tensors {
		if err := addTensor(w, src.s, st, t); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (src *ggufSource) write(path string, t quant.Type, name string) error {
	w, err := src.writer(t, name)
	if err != nil {
		return err
	}
	if err := w.WriteFile(path); err != nil {
		return fmt.Errorf("tiny model: %w", err)
	}
	return nil
}

func vocabOptions(s Spec) VocabOptions {
	o := VocabOptions{Model: "llama", Pre: "default", VocabSize: s.VocabSize, BOS: s.BOS, EOS: s.EOS[0], Pad: s.Pad}
	if s.Tokenizer == ByteLevel {
		o.Model, o.Pre = "gpt2", s.ModelType // the split regex llama.cpp names after the model: "qwen2"
	}
	return o
}

// llama.cpp's llama_ftype of a file whose weights are mostly t.
var fileTypes = map[quant.Type]uint32{quant.F32: 0, quant.F16: 1, quant.Q4_0: 2, quant.Q4_1: 3, quant.Q8_0: 7,
	quant.Q5_0: 8, quant.Q5_1: 9, quant.Q4_K: 14 /* Q4_K_S */, quant.Q5_K: 16 /* Q5_K_S */, quant.Q6_K: 18, quant.BF16: 32}

// hparams are the architecture keys llama.cpp's loader reads (types exactly
// as it demands: counts uint32, eps and freq_base float32).
func hparams(s Spec, t quant.Type, name string) []kv {
	a := GGUFArch(s.Arch)
	kvs := []kv{{"general.architecture", a}}
	// llama.cpp sets token attributes by general.name: a name containing
	// "phi3" makes it look up Phi-3's own special tokens (<|endoftext|>),
	// which the tiny Phi-3's 32000-token vocabulary lacks, and the load
	// fails; so the tiny Phi-3 files carry no name (the key is optional).
	if s.Arch != Phi3 {
		kvs = append(kvs, kv{"general.name", name})
	}
	kvs = append(kvs, kv{"general.file_type", fileTypes[t]})
	if t.BlockSize() > 1 {
		kvs = append(kvs, kv{"general.quantization_version", uint32(2)})
	}
	kvs = append(kvs,
		kv{a + ".vocab_size", uint32(s.VocabSize)},
		kv{a + ".context_length", uint32(s.MaxPositions)},
		kv{a + ".embedding_length", uint32(s.Hidden)},
		kv{a + ".block_count", uint32(s.Layers)},
		kv{a + ".feed_forward_length", uint32(s.Intermediate)},
		kv{a + ".attention.head_count", uint32(s.Heads)},
		kv{a + ".attention.head_count_kv", uint32(s.KVHeads)},
		kv{a + ".attention.layer_norm_rms_epsilon", float32(s.RMSEps)},
		kv{a + ".rope.freq_base", float32(s.RopeTheta)},
		kv{a + ".rope.dimension_count", uint32(s.HeadDim())},
	)
	// Sliding window: convert_hf_to_gguf.py writes it for Phi-3 only (llama.cpp
	// then disables it for Phi-3 anyway); Mistral as "llama" and Qwen2 (window
	// off) carry none. llama.cpp ignores a window key on "llama" (tried: it
	// attends to the whole context either way), so the GGUF tiny-mistral is
	// the full-attention model: past its 32-token window it differs from the
	// safetensors tiny-mistral, as real Mistral v0.1 GGUFs do from theirs.
	if s.Arch == Phi3 {
		kvs = append(kvs, kv{a + ".rope.scaling.original_context_length", uint32(s.MaxPositions)})
		if s.SlidingWindow > 0 {
			kvs = append(kvs, kv{a + ".attention.sliding_window", uint32(s.SlidingWindow)})
		}
	}
	return kvs
}
