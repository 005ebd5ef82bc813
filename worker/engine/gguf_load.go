package engine

import (
	"errors"
	"fmt"

	"github.com/rbee-go/rbee/worker/gguf"
)

// GGUFFile is what NewFromGGUF reads: metadata and tensors (a *gguf.File).
type GGUFFile interface {
	ggufMeta
	ggufTensors
}

// LoadGGUF reads a single-file GGUF model; the model's Close releases the file.
func LoadGGUF(path string, opts Options) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load weights: %w", err)
	}
	m, err := NewFromGGUF(f, opts)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	m.closer = f
	return m, nil
}

// GGUFConfig reads the configuration of a GGUF model (general.architecture
// llama, qwen2 or phi3) from its metadata and tensor list.
func GGUFConfig(f GGUFFile) (Config, error) {
	embd, ok := f.Tensor("token_embd.weight")
	if !ok {
		return Config{}, fmt.Errorf("%w: token_embd.weight", ErrMissingTensor)
	}
	if len(embd.Dims) != 2 {
		return Config{}, fmt.Errorf("%w: token_embd.weight has dims %v, want [hidden, vocab]", ErrShapeMismatch, embd.Dims)
	}
	_, hasOutput := f.Tensor("output.weight")
	missing := func(err error) bool { return errors.Is(err, gguf.ErrMissingKey) }
	c, err := ggufConfig(f, missing, int(embd.Dims[1]), !hasOutput)
	if err != nil {
		return Config{}, err
	}
	has := func(name string) bool { _, ok := f.Tensor(name); return ok }
	// The layout follows the tensors present, as llama.cpp's loader does:
	// Phi-3 files may carry unfused q/k/v or gate/up; Llama files may
	// carry attention biases.
	if c.FusedQKV && !has("blk.0.attn_qkv.weight") && has("blk.0.attn_q.weight") {
		c.FusedQKV = false
	}
	if c.FusedGateUp && has("blk.0.ffn_gate.weight") {
		c.FusedGateUp = false
	}
	if c.Architecture == ArchLlama {
		c.QKVBias, c.OBias = has("blk.0.attn_q.bias"), has("blk.0.attn_output.bias")
	}
	// Per-frequency RoPE factors change every rotation; refused rather than ignored.
	for name, what := range map[string]string{"rope_factors_long.weight": "LongRoPE, e.g. Phi-3 128k; use the 4k variants",
		"rope_factors_short.weight": "LongRoPE, e.g. Phi-3 128k; use the 4k variants", "rope_freqs.weight": "Llama 3.1-style RoPE scaling"} {
		if has(name) {
			return Config{}, fmt.Errorf("%w: tensor %s (%s)", ErrUnsupported, name, what)
		}
	}
	// Special ids outside the vocabulary (0xFFFFFFFF = none) are ignored,
	// as llama.cpp does.
	if v, err := f.Uint("tokenizer.ggml.bos_token_id"); err == nil && v < uint64(c.VocabSize) {
		c.BOS = int(v)
	} else if err != nil && !missing(err) {
		return Config{}, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if v, err := f.Uint("tokenizer.ggml.eos_token_id"); err == nil && v < uint64(c.VocabSize) {
		c.EOS = []int{int(v)}
	} else if err != nil && !missing(err) {
		return Config{}, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return c, nil
}

// NewFromGGUF builds a model over an open GGUF file, which must outlive it.
func NewFromGGUF(f GGUFFile, opts Options) (*Model, error) {
	cfg, err := GGUFConfig(f)
	if err != nil {
		return nil, err
	}
	return build(cfg, &ggufWeights{f: f}, opts)
}
