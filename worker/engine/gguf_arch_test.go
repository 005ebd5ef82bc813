package engine_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/realmodel"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// addQwenBiases gives every layer random q/k/v biases.
func (w weights) addQwenBiases(s spec, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 5))
	hd := s.hidden / s.heads
	for l := range s.layers {
		for _, b := range []struct {
			name string
			n    int
		}{{"q_proj", s.heads * hd}, {"k_proj", s.kvHeads * hd}, {"v_proj", s.kvHeads * hd}} {
			w[fmt.Sprintf("model.layers.%d.self_attn.%s.bias", l, b.name)] = struct {
				shape []int
				vals  []float32
			}{[]int{b.n}, values(r, b.n, 0, 0.5)}
		}
	}
}

// A GGUF file of each architecture (llama.cpp's tensor names and layouts:
// llama's q/k rows unpermuted, phi3 fused, qwen2 biases and no output
// tensor) gives the logits of the same weights as a safetensors model; a
// quantized file (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) gives those of its
// dequantized weights up to its 8-bit activations. Flipping the RoPE mode
// breaks each.
func TestGGUFArchitectures(t *testing.T) {
	for _, c := range []struct {
		name string
		arch string
		typ  quant.Type
		meta map[string]any
	}{
		{"llama", engine.ArchLlama, quant.F32, nil}, // no rope.freq_base: 10000
		{"mistral", engine.ArchMistral, quant.F32, map[string]any{"llama.rope.freq_base": float32(1e6)}},
		{"qwen2", engine.ArchQwen2, quant.F32, map[string]any{"qwen2.rope.freq_base": float32(1e6)}},
		{"phi3", engine.ArchPhi3, quant.F32, map[string]any{"phi3.attention.sliding_window": uint32(5)}},
		{"llama-Q8_0", engine.ArchLlama, quant.Q8_0, nil},
		{"phi3-Q8_0", engine.ArchPhi3, quant.Q8_0, map[string]any{"phi3.attention.sliding_window": uint32(5)}},
		{"qwen2-Q4_0", engine.ArchQwen2, quant.Q4_0, nil},
		{"llama-Q4_K", engine.ArchLlama, quant.Q4_K, nil}, // k-quants: rows of 256 (hidden and intermediate 256 below)
		{"mistral-Q6_K", engine.ArchMistral, quant.Q6_K, map[string]any{"llama.rope.freq_base": float32(1e6)}},
		{"phi3-Q5_K", engine.ArchPhi3, quant.Q5_K, map[string]any{"phi3.attention.sliding_window": uint32(5)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := spec{arch: c.arch, vocab: 97, hidden: 64, inter: 96, layers: 2, heads: 4, kvHeads: 2, maxPos: 64}
			if c.typ.BlockSize() == quant.QK_K {
				s.hidden, s.inter = 256, 256
			}
			w := randomWeights(s, 31)
			if theta, ok := c.meta[ggufArchOf[c.arch]+".rope.freq_base"]; ok {
				s.extra = map[string]any{"rope_theta": float64(theta.(float32))}
			}
			file := w
			switch c.arch {
			case engine.ArchLlama, engine.ArchMistral:
				file = w.unpermuteQK(s)
			case engine.ArchQwen2:
				s.tie = true
				delete(w, "lm_head.weight")
				w.addQwenBiases(s, 32)
			case engine.ArchPhi3:
				s.window = 5
				file = w.fusePhi3(s.layers)
			}
			held, path := writeGGUF(t, s, file, c.typ, c.meta)
			switch c.arch { // the reference holds the file's (dequantized) values in HF layout
			case engine.ArchLlama, engine.ArchMistral:
				held = held.permuteQK(s)
			}
			ref := newModel(t, s, held.tensors(safetensors.F32))

			gg, err := engine.LoadGGUF(path, engine.Options{Threads: 2})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, gg.Close()) })
			rc, gc := ref.Config(), gg.Config()
			assert.Equal(t, []int{rc.VocabSize, rc.Hidden, rc.Intermediate, rc.Layers, rc.Heads, rc.KVHeads, rc.HeadDim, rc.RotaryDim, rc.SlidingWindow},
				[]int{gc.VocabSize, gc.Hidden, gc.Intermediate, gc.Layers, gc.Heads, gc.KVHeads, gc.HeadDim, gc.RotaryDim, gc.SlidingWindow})
			assert.Equal(t, []bool{rc.TieEmbeddings, rc.QKVBias, rc.FusedQKV, rc.FusedGateUp}, []bool{gc.TieEmbeddings, gc.QKVBias, gc.FusedQKV, gc.FusedGateUp})
			assert.Equal(t, rc.RopeTheta, gc.RopeTheta)
			assert.InDelta(t, rc.RMSEps, gc.RMSEps, 1e-12)
			assert.Equal(t, c.arch == engine.ArchLlama || c.arch == engine.ArchMistral, gc.RopeInterleaved)

			toks := tokens(33, 12, s.vocab)
			want, got := forward(t, ref, toks, 8, 1, 1, 1, 1), forward(t, gg, toks, 8, 1, 1, 1, 1)
			// Quantized weights are multiplied by activations quantized per
			// block to 8 bits (Q8_0 / Q8_K, as llama.cpp does; the kernels'
			// tests bound each product): 1.0-1.6% of the largest logit here,
			// where a wrong tensor or layout is off by O(1).
			rel := 1e-5
			if c.typ != quant.F32 {
				rel = 4e-2
			}
			for i := range want {
				requireLogitsClose(t, want[i], got[i], rel, "step %d", i)
			}

			f, err := gguf.Open(path)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, f.Close()) })
			wrong, err := engine.NewFromGGUFEdited(f, engine.Options{Threads: 2}, func(c *engine.Config) { c.RopeInterleaved = !c.RopeInterleaved })
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, wrong.Close()) })
			require.Greater(t, maxDiff(want[0], forward(t, wrong, toks, 8)[0]), 1e-3, "the other RoPE mode must change the logits")
		})
	}
}

// The stories260K GGUF with rotate_half instead of llama.cpp's adjacent
// pairs no longer matches its HF folder (TestStories260KGGUFMatchesHF in
// worker/server shows the right mode matches to 1e-5).
func TestStories260KGGUFWrongRoPE(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, realmodel.WriteGGUF(dir))
	require.NoError(t, realmodel.WriteHF(filepath.Join(dir, "hf")))
	f, err := gguf.Open(filepath.Join(dir, realmodel.GGUFFile))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	wrong, err := engine.NewFromGGUFEdited(f, engine.Options{Threads: 2}, func(c *engine.Config) { c.RopeInterleaved = false })
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, wrong.Close()) })
	hf, err := engine.Load(filepath.Join(dir, "hf"), engine.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, hf.Close()) })
	ids := realmodel.PromptIDs()
	d := maxDiff(forward(t, hf, ids, 2)[0], forward(t, wrong, ids, 2)[0])
	require.Greater(t, d, 0.01, "position 1")
	t.Logf("wrong RoPE mode at position 1: max |logit difference| %.3g", d)
}

// Bad GGUF models are refused naming what is wrong.
func TestGGUFErrors(t *testing.T) {
	s := spec{arch: engine.ArchLlama, vocab: 97, hidden: 64, inter: 96, layers: 2, heads: 4, kvHeads: 2, maxPos: 64}
	w := randomWeights(s, 41)
	noQ := weights{}
	for k, v := range w {
		if k != "model.layers.1.self_attn.q_proj.weight" {
			noQ[k] = v
		}
	}
	withRopeFreqs := weights{"rope_freqs.weight": {[]int{8}, make([]float32, 8)}}
	for k, v := range w {
		withRopeFreqs[k] = v
	}
	for _, c := range []struct {
		name string
		w    weights
		meta map[string]any
		is   error
		msg  string
	}{
		{"missing key", w, map[string]any{"llama.block_count": nil}, gguf.ErrMissingKey, `"llama.block_count"`},
		{"missing eps", w, map[string]any{"llama.attention.layer_norm_rms_epsilon": nil}, gguf.ErrMissingKey, `"llama.attention.layer_norm_rms_epsilon"`},
		{"architecture", w, map[string]any{"general.architecture": "gpt2"}, engine.ErrUnsupported, `GGUF architecture "gpt2" (supported: llama, qwen2, phi3)`},
		{"no architecture", w, map[string]any{"general.architecture": nil}, gguf.ErrMissingKey, `"general.architecture"`},
		{"rope scaling", w, map[string]any{"llama.rope.scaling.type": "yarn"}, engine.ErrUnsupported, `llama.rope.scaling.type "yarn"`},
		{"wrong key type", w, map[string]any{"llama.block_count": "two"}, engine.ErrBadConfig, "llama.block_count"},
		{"missing tensor", noQ, nil, engine.ErrMissingTensor, "blk.1.attn_q.weight"},
		{"heads", w, map[string]any{"llama.attention.head_count_kv": uint32(3)}, engine.ErrBadConfig, "llama.attention.head_count_kv 3"},
		{"rope freqs", withRopeFreqs, nil, engine.ErrUnsupported, "tensor rope_freqs.weight"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, path := writeGGUF(t, s, c.w, quant.F32, c.meta)
			_, err := engine.LoadGGUF(path, engine.Options{Threads: 1})
			require.ErrorIs(t, err, c.is)
			require.ErrorContains(t, err, c.msg)
		})
	}
	var meta map[string]any
	_, path := writeGGUF(t, s, w, quant.F32, meta)
	m, err := engine.LoadGGUF(path, engine.Options{Threads: 1})
	require.NoError(t, err)
	require.NoError(t, m.Close())
}
