package engine_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// spec describes a small random model.
type spec struct {
	arch                                         string
	vocab, hidden, inter, layers, heads, kvHeads int
	maxPos, window                               int
	tie                                          bool
	extra                                        map[string]any
}

func smallSpec(arch string) spec {
	return spec{arch: arch, vocab: 97, hidden: 48, inter: 80, layers: 2, heads: 6, kvHeads: 2, maxPos: 64}
}

// configJSON renders the spec as a transformers config.json.
func (s spec) configJSON() []byte {
	m := map[string]any{
		"architectures": []string{s.arch}, "vocab_size": s.vocab, "hidden_size": s.hidden,
		"intermediate_size": s.inter, "num_hidden_layers": s.layers, "num_attention_heads": s.heads,
		"num_key_value_heads": s.kvHeads, "max_position_embeddings": s.maxPos, "rope_theta": 10000.0,
		"rms_norm_eps": 1e-5, "tie_word_embeddings": s.tie, "hidden_act": "silu", "eos_token_id": 2, "bos_token_id": 1,
	}
	if s.window > 0 {
		m["sliding_window"] = s.window
	} else {
		m["sliding_window"] = nil
	}
	for k, v := range s.extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func (s spec) config(t testing.TB) engine.Config {
	c, err := engine.ParseConfig(s.configJSON(), nil)
	require.NoError(t, err)
	return c
}

// tensor encodes values (already representable in dtype) as a tensor.
func tensor(name string, dtype safetensors.DType, shape []int, vals []float32) safetensors.Tensor {
	t := safetensors.Tensor{Name: name, DType: dtype, Shape: shape}
	switch dtype {
	case safetensors.F32:
		t.Data = make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(v))
		}
	case safetensors.BF16:
		t.Data = make([]byte, 2*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint16(t.Data[2*i:], uint16(math.Float32bits(v)>>16))
		}
	default:
		panic("tensor: dtype " + dtype)
	}
	return t
}

// values are random normals of the given scale around mean, truncated to
// BF16 so the same numbers can be stored as F32 or BF16.
func values(r *rand.Rand, n int, mean, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		f := float32(mean + r.NormFloat64()*scale)
		v[i] = math.Float32frombits(math.Float32bits(f) &^ 0xffff)
	}
	return v
}

// weights are the unfused (Llama-layout) weights of a spec: name → (shape, values).
type weights map[string]struct {
	shape []int
	vals  []float32
}

func randomWeights(s spec, seed uint64) weights {
	r := rand.New(rand.NewPCG(seed, 99))
	hd := s.hidden / s.heads
	w := weights{}
	add := func(name string, mean, scale float64, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		w[name] = struct {
			shape []int
			vals  []float32
		}{shape, values(r, n, mean, scale)}
	}
	ws := 1 / math.Sqrt(float64(s.hidden))
	add("model.embed_tokens.weight", 0, 1, s.vocab, s.hidden)
	for l := range s.layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", 1, 0.1, s.hidden)
		add(p+"post_attention_layernorm.weight", 1, 0.1, s.hidden)
		add(p+"self_attn.q_proj.weight", 0, ws, s.heads*hd, s.hidden)
		add(p+"self_attn.k_proj.weight", 0, ws, s.kvHeads*hd, s.hidden)
		add(p+"self_attn.v_proj.weight", 0, ws, s.kvHeads*hd, s.hidden)
		add(p+"self_attn.o_proj.weight", 0, ws, s.hidden, s.heads*hd)
		add(p+"mlp.gate_proj.weight", 0, ws, s.inter, s.hidden)
		add(p+"mlp.up_proj.weight", 0, ws, s.inter, s.hidden)
		add(p+"mlp.down_proj.weight", 0, 1/math.Sqrt(float64(s.inter)), s.hidden, s.inter)
	}
	add("model.norm.weight", 1, 0.1, s.hidden)
	add("lm_head.weight", 0, ws, s.vocab, s.hidden)
	return w
}

// tensors stores the weights as dtype.
func (w weights) tensors(dtype safetensors.DType) engine.TensorMap {
	m := engine.TensorMap{}
	for name, t := range w {
		m[name] = tensor(name, dtype, t.shape, t.vals)
	}
	return m
}

// fusePhi3 rewrites unfused Llama weights into Phi-3's qkv_proj and
// gate_up_proj (rows concatenated: q, k, v and gate, up).
func (w weights) fusePhi3(layers int) weights {
	out := weights{}
	for k, v := range w {
		out[k] = v
	}
	for l := range layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		fuse := func(dst string, parts ...string) {
			var vals []float32
			rows := 0
			for _, part := range parts {
				vals = append(vals, out[p+part].vals...)
				rows += out[p+part].shape[0]
				cols := out[p+part].shape[1]
				delete(out, p+part)
				out[p+dst] = struct {
					shape []int
					vals  []float32
				}{[]int{rows, cols}, vals}
			}
		}
		fuse("self_attn.qkv_proj.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight")
		fuse("mlp.gate_up_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight")
	}
	return out
}

func newModel(t testing.TB, s spec, src engine.TensorSource) *engine.Model {
	m, err := engine.New(s.config(t), src, engine.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

func tokens(seed uint64, n, vocab int) []int {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]int, n)
	for i := range out {
		out[i] = r.IntN(vocab)
	}
	return out
}

// forward runs tokens through a fresh session in the given chunk sizes and
// returns a copy of the logits after each chunk.
func forward(t testing.TB, m *engine.Model, toks []int, chunks ...int) [][]float32 {
	s := m.NewSession()
	var out [][]float32
	for _, c := range chunks {
		lg, err := s.Forward(toks[:c])
		require.NoError(t, err)
		out = append(out, append([]float32(nil), lg...))
		toks = toks[c:]
	}
	return out
}

// requireLogitsClose compares logits relative to their scale.
func requireLogitsClose(t testing.TB, want, got []float32, rel float64, msgAndArgs ...any) {
	t.Helper()
	require.Len(t, got, len(want))
	require.LessOrEqual(t, maxDiff(want, got), rel*maxAbs(want), msgAndArgs...)
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func maxAbs(a []float32) float64 {
	var m float64
	for _, v := range a {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}
