package engine

import (
	"fmt"
	"slices"

	"github.com/rbee-go/rbee/worker/engine/kernels"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// TensorSource yields named tensors: a *safetensors.Set, or an in-memory
// map in tests and benchmarks.
type TensorSource interface {
	Tensor(name string) (safetensors.Tensor, bool)
}

// TensorMap is an in-memory TensorSource.
type TensorMap map[string]safetensors.Tensor

// Tensor implements TensorSource.
func (m TensorMap) Tensor(name string) (safetensors.Tensor, bool) {
	t, ok := m[name]
	return t, ok
}

// layerWeights are one decoder block's parameters. Matrices alias the
// source bytes; the small vectors (norms, biases) are widened to F32.
type layerWeights struct {
	attnNorm, mlpNorm   []float32
	q, k, v, o          kernels.Matrix
	qBias, kBias, vBias []float32
	oBias               []float32
	gate, up, down      kernels.Matrix
}

// weightSource yields New's weights by their Hugging Face names, checked
// against the shapes the config implies: safetensors tensors as stored, or
// a GGUF file's tensors under their GGUF names (gguf_weights.go).
type weightSource interface {
	matrix(name string, rows, cols int) (kernels.Matrix, error) // [rows, cols] row-major
	vector(name string, n int) ([]float32, error)               // widened to F32
	loadedBytes() int64                                         // bytes of the weights handed out
}

// weightReader fetches safetensors tensors and checks them against the config.
type weightReader struct {
	src   TensorSource
	bytes int64
}

func kernelDType(t safetensors.Tensor) (kernels.DType, error) {
	switch t.DType {
	case safetensors.F32:
		return kernels.F32, nil
	case safetensors.F16:
		return kernels.F16, nil
	case safetensors.BF16:
		return kernels.BF16, nil
	}
	return 0, fmt.Errorf("%w: tensor %s has dtype %s (supported: F32, F16, BF16)", ErrUnsupported, t.Name, t.DType)
}

func (r *weightReader) get(name string, shape ...int) (safetensors.Tensor, kernels.DType, error) {
	t, ok := r.src.Tensor(name)
	if !ok {
		return t, 0, fmt.Errorf("%w: %s", ErrMissingTensor, name)
	}
	if !slices.Equal(t.Shape, shape) {
		return t, 0, fmt.Errorf("%w: %s: expected %v, got %v", ErrShapeMismatch, name, shape, t.Shape)
	}
	dt, err := kernelDType(t)
	if err != nil {
		return t, 0, err
	}
	if want := t.NumElements() * dt.Size(); len(t.Data) != want {
		return t, 0, fmt.Errorf("%w: %s: %d bytes for shape %v %s (want %d)", ErrShapeMismatch, name, len(t.Data), shape, t.DType, want)
	}
	r.bytes += int64(len(t.Data))
	return t, dt, nil
}

func (r *weightReader) loadedBytes() int64 { return r.bytes }

// matrix returns a [rows, cols] weight, kept in its stored dtype.
func (r *weightReader) matrix(name string, rows, cols int) (kernels.Matrix, error) {
	t, dt, err := r.get(name, rows, cols)
	if err != nil {
		return kernels.Matrix{}, err
	}
	return kernels.NewMatrix(dt, rows, cols, t.Data)
}

// vector returns a [n] tensor widened to F32.
func (r *weightReader) vector(name string, n int) ([]float32, error) {
	t, dt, err := r.get(name, n)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	kernels.ToF32(dt, t.Data, out)
	return out, nil
}

func loadLayer(r weightSource, c Config, i int) (layerWeights, error) {
	p := fmt.Sprintf("model.layers.%d.", i)
	var (
		lw  layerWeights
		err error
	)
	qRows, kvRows := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	if lw.attnNorm, err = r.vector(p+"input_layernorm.weight", c.Hidden); err != nil {
		return lw, err
	}
	if lw.mlpNorm, err = r.vector(p+"post_attention_layernorm.weight", c.Hidden); err != nil {
		return lw, err
	}
	if c.FusedQKV {
		qkv, err := r.matrix(p+"self_attn.qkv_proj.weight", qRows+2*kvRows, c.Hidden)
		if err != nil {
			return lw, err
		}
		lw.q, lw.k, lw.v = qkv.RowSlice(0, qRows), qkv.RowSlice(qRows, qRows+kvRows), qkv.RowSlice(qRows+kvRows, qRows+2*kvRows)
	} else {
		for _, m := range []struct {
			dst  *kernels.Matrix
			name string
			rows int
		}{{&lw.q, "q_proj", qRows}, {&lw.k, "k_proj", kvRows}, {&lw.v, "v_proj", kvRows}} {
			if *m.dst, err = r.matrix(p+"self_attn."+m.name+".weight", m.rows, c.Hidden); err != nil {
				return lw, err
			}
		}
	}
	if c.QKVBias {
		for _, b := range []struct {
			dst  *[]float32
			name string
			n    int
		}{{&lw.qBias, "q_proj", qRows}, {&lw.kBias, "k_proj", kvRows}, {&lw.vBias, "v_proj", kvRows}} {
			if *b.dst, err = r.vector(p+"self_attn."+b.name+".bias", b.n); err != nil {
				return lw, err
			}
		}
	}
	if lw.o, err = r.matrix(p+"self_attn.o_proj.weight", c.Hidden, qRows); err != nil {
		return lw, err
	}
	if c.OBias {
		if lw.oBias, err = r.vector(p+"self_attn.o_proj.bias", c.Hidden); err != nil {
			return lw, err
		}
	}
	if c.FusedGateUp {
		gu, err := r.matrix(p+"mlp.gate_up_proj.weight", 2*c.Intermediate, c.Hidden)
		if err != nil {
			return lw, err
		}
		lw.gate, lw.up = gu.RowSlice(0, c.Intermediate), gu.RowSlice(c.Intermediate, 2*c.Intermediate)
	} else {
		if lw.gate, err = r.matrix(p+"mlp.gate_proj.weight", c.Intermediate, c.Hidden); err != nil {
			return lw, err
		}
		if lw.up, err = r.matrix(p+"mlp.up_proj.weight", c.Intermediate, c.Hidden); err != nil {
			return lw, err
		}
	}
	lw.down, err = r.matrix(p+"mlp.down_proj.weight", c.Hidden, c.Intermediate)
	return lw, err
}
