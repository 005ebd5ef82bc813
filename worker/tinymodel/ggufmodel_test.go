package tinymodel_test

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/safetensors"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// hfWeights decodes the safetensors tensors of a spec by name.
func hfWeights(t *testing.T, s tinymodel.Spec) map[string][]float32 {
	t.Helper()
	ts, err := tinymodel.Weights(s, tinymodel.DefaultSeed)
	require.NoError(t, err)
	out := map[string][]float32{}
	for _, st := range ts {
		x, err := safetensors.ToF32(st)
		require.NoError(t, err)
		out[st.Name] = x
	}
	return out
}

func expectedTensors(s tinymodel.Spec) []string {
	names := []string{"token_embd.weight", "output_norm.weight"}
	if !s.Tie {
		names = append(names, "output.weight")
	}
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		names = append(names, p+"attn_norm.weight", p+"ffn_norm.weight", p+"attn_output.weight", p+"ffn_down.weight", p+"ffn_up.weight")
		if s.Fused {
			names = append(names, p+"attn_qkv.weight")
		} else {
			names = append(names, p+"attn_q.weight", p+"attn_k.weight", p+"attn_v.weight", p+"ffn_gate.weight")
		}
		if s.QKVBias {
			names = append(names, p+"attn_q.bias", p+"attn_k.bias", p+"attn_v.bias")
		}
	}
	sort.Strings(names)
	return names
}

func TestGGUFTinyModels(t *testing.T) {
	dir := t.TempDir()
	for _, r := range tinymodel.Repos() {
		t.Run(r.ID, func(t *testing.T) {
			s, err := tinymodel.SpecFor(r.Arch)
			require.NoError(t, err)
			hf := hfWeights(t, s)
			paths, err := tinymodel.GenerateGGUF(dir, r.Arch, tinymodel.DefaultSeed, tinymodel.GGUFTypes)
			require.NoError(t, err)
			require.Len(t, paths, 3)
			for i, ty := range tinymodel.GGUFTypes {
				assert.Equal(t, filepath.Join(dir, r.ID+"-"+ty.String()+".gguf"), paths[i])
				f, err := gguf.Open(paths[i])
				require.NoError(t, err)
				t.Cleanup(func() { _ = f.Close() })
				checkHParams(t, f, s, ty)
				checkTensors(t, f, s, hf, ty)
			}
		})
	}
}

func checkHParams(t *testing.T, f *gguf.File, s tinymodel.Spec, ty quant.Type) {
	arch := map[tinymodel.Arch]string{"llama": "llama", "mistral": "llama", "qwen2": "qwen2", "phi3": "phi3"}[s.Arch]
	got, err := f.Architecture()
	require.NoError(t, err)
	require.Equal(t, arch, got)
	// llama.cpp demands these exact value types
	for key, want := range map[string]any{
		"context_length": uint32(s.MaxPositions), "embedding_length": uint32(s.Hidden), "block_count": uint32(s.Layers),
		"feed_forward_length": uint32(s.Intermediate), "attention.head_count": uint32(s.Heads),
		"attention.head_count_kv": uint32(s.KVHeads), "rope.dimension_count": uint32(s.HeadDim()),
		"attention.layer_norm_rms_epsilon": float32(s.RMSEps), "rope.freq_base": float32(s.RopeTheta),
		"vocab_size": uint32(s.VocabSize),
	} {
		v, ok := f.Lookup(arch + "." + key)
		require.True(t, ok, key)
		assert.Equal(t, want, v.V, key)
	}
	_, named := f.Lookup("general.name")
	assert.Equal(t, s.Arch != tinymodel.Phi3, named, "no general.name on Phi-3: llama.cpp would look up <|endoftext|>")
	v, _ := f.Lookup("general.file_type")
	assert.Equal(t, map[quant.Type]uint32{quant.F32: 0, quant.Q8_0: 7, quant.Q4_K: 14}[ty], v.V)
	_, hasWindow := f.Lookup(arch + ".attention.sliding_window")
	assert.Equal(t, s.Arch == tinymodel.Phi3, hasWindow, "only Phi-3 carries its sliding window")
	if s.Arch == tinymodel.Phi3 {
		w, err := f.Uint("phi3.attention.sliding_window")
		require.NoError(t, err)
		assert.Equal(t, uint64(2047), w)
	}
}

func checkTensors(t *testing.T, f *gguf.File, s tinymodel.Spec, hf map[string][]float32, ty quant.Type) {
	var names []string
	for _, tn := range f.Tensors {
		names = append(names, tn.Name)
		want := quant.F32
		if len(tn.Dims) == 2 {
			want = map[quant.Type]quant.Type{quant.F32: quant.F32, quant.Q8_0: quant.Q8_0, quant.Q4_K: quant.Q5_0}[ty]
		}
		assert.Equal(t, want, tn.Type, "%s in a %s file", tn.Name, ty)
	}
	sort.Strings(names)
	require.Equal(t, expectedTensors(s), names)

	// bound on |error| / the tensor's max |x|: the per-block bounds of worker/quant
	// (Q8_0 half a step of amax/127 plus the fp16 scale; Q5_0, which tiny Q4_K
	// files hold, a full step amax/16 at the clamped end)
	tol := map[quant.Type]float64{quant.F32: 0, quant.Q8_0: 0.0045, quant.Q4_K: 0.0635}[ty]
	hd := s.HeadDim()
	for hfName, gName := range map[string]string{
		"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
		"model.layers.1.self_attn.o_proj.weight": "blk.1.attn_output.weight", "model.layers.0.mlp.down_proj.weight": "blk.0.ffn_down.weight",
		"model.layers.0.self_attn.qkv_proj.weight": "blk.0.attn_qkv.weight", "model.layers.0.mlp.gate_up_proj.weight": "blk.0.ffn_up.weight",
		"model.layers.0.self_attn.v_proj.weight": "blk.0.attn_v.weight", "model.layers.0.mlp.up_proj.weight": "blk.0.ffn_up.weight",
		"model.layers.0.self_attn.q_proj.weight": "blk.0.attn_q.weight", "model.layers.1.self_attn.k_proj.weight": "blk.1.attn_k.weight",
		"model.layers.1.self_attn.k_proj.bias": "blk.1.attn_k.bias", "lm_head.weight": "output.weight",
	} {
		want, ok := hf[hfName]
		if !ok {
			continue
		}
		tn, ok := f.Tensor(gName)
		require.True(t, ok, gName)
		got, err := tn.Dequantize()
		require.NoError(t, err)
		heads := map[string]int{"blk.0.attn_q.weight": s.Heads, "blk.1.attn_k.weight": s.KVHeads}[gName]
		if heads > 0 && (s.Arch == tinymodel.Llama || s.Arch == tinymodel.Mistral) {
			want = permuted(want, heads, hd, s.Hidden)
		}
		require.Len(t, got, len(want), gName)
		var amax float64
		for _, v := range want {
			amax = max(amax, math.Abs(float64(v)))
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > tol*amax {
				t.Fatalf("%s (%s file) element %d: %g, want %g", gName, ty, i, got[i], want[i])
			}
		}
	}
}

// permuted is convert_hf_to_gguf.py's permute written the numpy way:
// reshape(heads, 2, hd/2, in).swapaxes(1, 2).
func permuted(w []float32, heads, hd, in int) []float32 {
	out := make([]float32, 0, len(w))
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			for j := 0; j < 2; j++ {
				row := h*hd + j*(hd/2) + i
				out = append(out, w[row*in:(row+1)*in]...)
			}
		}
	}
	return out
}
