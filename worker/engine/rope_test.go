package engine_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// unpermuteQK turns HF-layout q/k rows back into the original (Meta, GGUF)
// layout, as llama.cpp's converter does: per head, original row 2i+j is HF
// row j·hd/2+i. permuteQK is the inverse (the HF converter's permute).
func (w weights) unpermuteQK(s spec) weights { return w.reorderQK(s, true) }

func (w weights) permuteQK(s spec) weights { return w.reorderQK(s, false) }

func (w weights) reorderQK(s spec, toOriginal bool) weights {
	hd := s.hidden / s.heads
	out := weights{}
	for name, t := range w {
		out[name] = t
	}
	for l := range s.layers {
		for _, proj := range []struct {
			name  string
			heads int
		}{{"q_proj", s.heads}, {"k_proj", s.kvHeads}} {
			name := fmt.Sprintf("model.layers.%d.self_attn.%s.weight", l, proj.name)
			src := w[name]
			vals := make([]float32, len(src.vals))
			cols := s.hidden
			for h := range proj.heads {
				for i := range hd / 2 {
					for j := range 2 {
						dst, from := h*hd+2*i+j, h*hd+j*hd/2+i
						if !toOriginal {
							dst, from = from, dst
						}
						copy(vals[dst*cols:(dst+1)*cols], src.vals[from*cols:(from+1)*cols])
					}
				}
			}
			out[name] = struct {
				shape []int
				vals  []float32
			}{src.shape, vals}
		}
	}
	return out
}

// Interleaved RoPE over the original q/k row order gives exactly the
// logits of rotate_half over the HF-permuted rows; either mode on the other
// layout does not.
func TestRopeLayouts(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	w := randomWeights(s, 21)
	hf := newModel(t, s, w.tensors(safetensors.F32))
	cfg := s.config(t)
	cfg.RopeInterleaved = true
	orig, err := engine.New(cfg, w.unpermuteQK(s).tensors(safetensors.F32), engine.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, orig.Close()) })
	wrong, err := engine.New(cfg, w.tensors(safetensors.F32), engine.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, wrong.Close()) })

	toks := tokens(22, 12, s.vocab)
	want, got, bad := forward(t, hf, toks, 8, 1, 1, 1, 1), forward(t, orig, toks, 8, 1, 1, 1, 1), forward(t, wrong, toks, 8, 1, 1, 1, 1)
	for i := range want {
		requireLogitsClose(t, want[i], got[i], 1e-5, "step %d", i)
		require.Greater(t, maxDiff(want[i], bad[i]), 1e-3, "step %d: interleaved RoPE on HF rows must differ", i)
	}
}
