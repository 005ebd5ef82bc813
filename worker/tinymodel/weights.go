package tinymodel

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/rbee-go/rbee/worker/safetensors"
)

// initSpec describes how one tensor's values are drawn: uniform with the given
// standard deviation around mean. Uniform (not normal) so values come from
// integer arithmetic only and are bit-identical on every platform.
type initSpec struct {
	mean, std float64
}

// Weights returns the model's tensors with HF names, drawn from seed. Each
// tensor has its own stream keyed by (seed, arch, name), so the values do
// not depend on the order tensors are made in.
func Weights(s Spec, seed int64) ([]safetensors.Tensor, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	hd := s.HeadDim()
	// Scales keep activations O(1): projections std 1/sqrt(fan_in), so a
	// unit-RMS input gives unit-scale outputs and attention scores spread
	// enough that a wrong mask or RoPE changes the logits visibly;
	// embeddings 2/sqrt(hidden) give logits of std ~2. Norm weights are
	// 1 ± a little so a kernel ignoring them is caught.
	proj := func(fanIn int) initSpec { return initSpec{0, 1 / math.Sqrt(float64(fanIn))} }
	norm := initSpec{1, 0.1}
	bias := initSpec{0, 0.5}
	embed := initSpec{0, 2 / math.Sqrt(float64(s.Hidden))}

	type def struct {
		name  string
		shape []int
		init  initSpec
	}
	defs := []def{
		{"model.embed_tokens.weight", []int{s.VocabSize, s.Hidden}, embed},
		{"model.norm.weight", []int{s.Hidden}, norm},
	}
	if !s.Tie {
		defs = append(defs, def{"lm_head.weight", []int{s.VocabSize, s.Hidden}, embed})
	}
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		defs = append(defs,
			def{p + "input_layernorm.weight", []int{s.Hidden}, norm},
			def{p + "post_attention_layernorm.weight", []int{s.Hidden}, norm},
			def{p + "self_attn.o_proj.weight", []int{s.Hidden, s.Heads * hd}, proj(s.Heads * hd)},
			def{p + "mlp.down_proj.weight", []int{s.Hidden, s.Intermediate}, proj(s.Intermediate)},
		)
		if s.Fused {
			defs = append(defs,
				def{p + "self_attn.qkv_proj.weight", []int{(s.Heads + 2*s.KVHeads) * hd, s.Hidden}, proj(s.Hidden)},
				def{p + "mlp.gate_up_proj.weight", []int{2 * s.Intermediate, s.Hidden}, proj(s.Hidden)},
			)
		} else {
			defs = append(defs,
				def{p + "self_attn.q_proj.weight", []int{s.Heads * hd, s.Hidden}, proj(s.Hidden)},
				def{p + "self_attn.k_proj.weight", []int{s.KVHeads * hd, s.Hidden}, proj(s.Hidden)},
				def{p + "self_attn.v_proj.weight", []int{s.KVHeads * hd, s.Hidden}, proj(s.Hidden)},
				def{p + "mlp.gate_proj.weight", []int{s.Intermediate, s.Hidden}, proj(s.Hidden)},
				def{p + "mlp.up_proj.weight", []int{s.Intermediate, s.Hidden}, proj(s.Hidden)},
			)
		}
		if s.QKVBias {
			defs = append(defs,
				def{p + "self_attn.q_proj.bias", []int{s.Heads * hd}, bias},
				def{p + "self_attn.k_proj.bias", []int{s.KVHeads * hd}, bias},
				def{p + "self_attn.v_proj.bias", []int{s.KVHeads * hd}, bias},
			)
		}
	}
	out := make([]safetensors.Tensor, 0, len(defs))
	for _, d := range defs {
		t, err := safetensors.FromF32(d.name, s.DType, d.shape, draw(seed, s.Arch, d.name, numel(d.shape), d.init))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// draw returns n uniform values with the given mean and std from the
// stream of (seed, arch, name).
func draw(seed int64, arch Arch, name string, n int, in initSpec) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(string(arch) + "/" + name))
	r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	half := in.std * math.Sqrt(3) // uniform on [-a, a] has std a/sqrt(3)
	v := make([]float32, n)
	for i := range v {
		u := float64(r.Uint64()>>11) * 0x1p-53 // [0, 1), exact
		// the explicit conversion stops the compiler fusing into an FMA on
		// some platforms, which would change the rounding
		v[i] = float32(in.mean + float64((2*u-1)*half))
	}
	return v
}
