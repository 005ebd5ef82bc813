package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"slices"

	"github.com/rbee-go/rbee/worker/engine/kernels"
	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
)

// ggufTensors is what the weights are read from (a *gguf.File).
type ggufTensors interface {
	Tensor(name string) (gguf.Tensor, bool)
}

// ggufWeights serves the loader's Hugging Face names from a GGUF file's
// tensors (llama.cpp's names; dims ne0 first, so [in, out] is row-major
// [out][in], the HF layout).
type ggufWeights struct {
	f     ggufTensors
	bytes int64
}

var ggufLayerName = regexp.MustCompile(`^model\.layers\.(\d+)\.(.+)$`)

// ggufNames maps HF names (after model.layers.N.) to GGUF names (after blk.N.).
var ggufNames = map[string]string{
	"input_layernorm.weight":          "attn_norm.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
	"self_attn.q_proj.weight":         "attn_q.weight",
	"self_attn.k_proj.weight":         "attn_k.weight",
	"self_attn.v_proj.weight":         "attn_v.weight",
	"self_attn.q_proj.bias":           "attn_q.bias",
	"self_attn.k_proj.bias":           "attn_k.bias",
	"self_attn.v_proj.bias":           "attn_v.bias",
	"self_attn.qkv_proj.weight":       "attn_qkv.weight",
	"self_attn.o_proj.weight":         "attn_output.weight",
	"self_attn.o_proj.bias":           "attn_output.bias",
	"mlp.gate_proj.weight":            "ffn_gate.weight",
	"mlp.up_proj.weight":              "ffn_up.weight",
	"mlp.down_proj.weight":            "ffn_down.weight",
	"mlp.gate_up_proj.weight":         "ffn_up.weight", // phi3: gate rows, then up rows
}

// ggufName returns the GGUF name of an HF tensor name.
func ggufName(hf string) string {
	switch hf {
	case "model.embed_tokens.weight":
		return "token_embd.weight"
	case "model.norm.weight":
		return "output_norm.weight"
	case "lm_head.weight":
		return "output.weight"
	}
	if m := ggufLayerName.FindStringSubmatch(hf); m != nil {
		if g, ok := ggufNames[m[2]]; ok {
			return "blk." + m[1] + "." + g
		}
	}
	return hf
}

func (w *ggufWeights) loadedBytes() int64 { return w.bytes }

// get fetches the tensor of an HF name and checks its dims (given HF
// order: outermost first).
func (w *ggufWeights) get(hf string, shape ...int) (gguf.Tensor, error) {
	name := ggufName(hf)
	t, ok := w.f.Tensor(name)
	if !ok {
		return t, fmt.Errorf("%w: %s", ErrMissingTensor, name)
	}
	want := make([]uint64, len(shape))
	for i, d := range shape {
		want[len(shape)-1-i] = uint64(d)
	}
	if !slices.Equal(t.Dims, want) {
		return t, fmt.Errorf("%w: %s: expected dims %v (ne0 first), got %v", ErrShapeMismatch, name, want, t.Dims)
	}
	return t, nil
}

func (w *ggufWeights) matrix(hf string, rows, cols int) (kernels.Matrix, error) {
	t, err := w.get(hf, rows, cols)
	if err != nil {
		return kernels.Matrix{}, err
	}
	m, err := ggufMatrix(t, rows, cols)
	w.bytes += m.Bytes() // what is held: dequantized types take F32 bytes
	return m, err
}

func (w *ggufWeights) vector(hf string, n int) ([]float32, error) {
	t, err := w.get(hf, n)
	if err != nil {
		return nil, err
	}
	m, err := ggufMatrix(t, 1, n)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	m.Row(0, out)
	w.bytes += int64(len(t.Data))
	return out, nil
}

// ggufMatrix is the one place a GGUF tensor becomes a kernels.Matrix: F32,
// F16, BF16 and the types the quantized kernels multiply (Q8_0, Q4_0,
// Q5_0, Q4_K, Q5_K, Q6_K) alias the file mapping; every other supported
// type is dequantized to F32 here.
func ggufMatrix(t gguf.Tensor, rows, cols int) (kernels.Matrix, error) {
	if dt, ok := kernels.FromQuant(t.Type); ok {
		return kernels.NewMatrix(dt, rows, cols, t.Data)
	}
	if !t.Type.Supported() {
		return kernels.Matrix{}, fmt.Errorf("%w: tensor %s has type %s (supported: %s)", ErrUnsupported, t.Name, t.Type, quant.SupportedNames())
	}
	vals, err := t.Dequantize()
	if err != nil {
		return kernels.Matrix{}, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	data := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return kernels.NewMatrix(kernels.F32, rows, cols, data)
}
