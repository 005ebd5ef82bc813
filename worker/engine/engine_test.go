package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
)

const tol = 2e-5 // relative to the largest logit; F32 activations throughout

// archModel builds a small random model of each architecture: Qwen2 gets
// random (non-zero) biases, Phi-3 fused weights, Mistral a short window.
func archModel(t *testing.T, arch string) (spec, *engine.Model) {
	s := smallSpec(arch)
	w := randomWeights(s, 1)
	switch arch {
	case engine.ArchMistral:
		s.window = 5
	case engine.ArchPhi3:
		s.window = 7
		w = w.fusePhi3(s.layers)
	case engine.ArchQwen2:
		s.tie = true
		delete(w, "lm_head.weight")
		w.addQwenBiases(s, 5)
	}
	return s, newModel(t, s, w.tensors(safetensors.BF16))
}

var arches = []string{engine.ArchLlama, engine.ArchMistral, engine.ArchQwen2, engine.ArchPhi3}

// The KV cache must reproduce a full recompute, and a batched prefill must
// match feeding the same tokens one at a time, at every position. Batches
// of 16 and more run on AMX-BF16 where the CPU has it, one token never.
func TestIncrementalEqualsRecompute(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			s, m := archModel(t, arch)
			toks := tokens(3, 34, s.vocab)
			ones := make([]int, len(toks))
			for i := range ones {
				ones[i] = 1
			}
			inc := forward(t, m, toks, ones...)
			for k := 1; k <= len(toks); k++ {
				full := forward(t, m, toks[:k], k)[0]
				requireLogitsClose(t, full, inc[k-1], tol, "position %d", k-1)
			}
			chunks := []int{3, 4, 1, 6, 17, 3}
			mixed := forward(t, m, toks, chunks...)
			pos := 0
			for i, c := range chunks {
				pos += c
				requireLogitsClose(t, inc[pos-1], mixed[i], tol, "chunk %d", i)
			}
			require.Greater(t, maxDiff(inc[0], inc[1]), 1e-3, "logits must depend on the input")
		})
	}
}

// A prompt longer than MaxBatch is prefilled in slices with the same
// result; a cancelled call leaves the session as it was.
func TestMaxBatchAndCancel(t *testing.T) {
	s := smallSpec(engine.ArchMistral)
	s.window = 4
	w := randomWeights(s, 12).tensors(safetensors.BF16)
	whole := newModel(t, s, w)
	m, err := engine.New(s.config(t), w, engine.Options{MaxBatch: 3})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	toks := tokens(12, 20, s.vocab)
	want := forward(t, whole, toks, 11, 9)
	got := forward(t, m, toks, 11, 9)
	for i := range want {
		requireLogitsClose(t, want[i], got[i], tol, "call %d", i)
	}

	sess := m.NewSession()
	_, err = sess.Forward(toks[:11])
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sess.ForwardContext(ctx, toks[11:])
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 11, sess.Len())
	lg, err := sess.Forward(toks[11:])
	require.NoError(t, err)
	requireLogitsClose(t, want[1], lg, tol, "after a cancelled call")
}

// The cache grows (64, 128, 256 positions) without losing earlier rows.
func TestCacheGrowth(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	s.maxPos, s.layers = 300, 1
	m := newModel(t, s, randomWeights(s, 13).tensors(safetensors.BF16))
	toks := tokens(13, 140, s.vocab)
	chunks := []int{60, 10, 1, 1, 60, 8}
	got := forward(t, m, toks, chunks...)
	pos := 0
	for i, c := range chunks {
		pos += c
		requireLogitsClose(t, forward(t, m, toks[:pos], pos)[0], got[i], tol, "after %d tokens", pos)
	}
}

// The KV cache grows with use and never to the full context up front:
// 64 positions at first, doubled as the sequence needs.
func TestKVCacheBytesGrow(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	s.maxPos = 4096
	m := newModel(t, s, randomWeights(s, 14).tensors(safetensors.BF16))
	sess := m.NewSession()
	require.Zero(t, sess.KVCacheBytes())
	perPos := int64(2 * s.layers * s.kvHeads * (s.hidden / s.heads) * 4) // K and V, F32
	toks := tokens(14, 130, s.vocab)
	for _, step := range []struct{ feed, positions int }{{3, 64}, {61, 64}, {1, 128}, {65, 256}} {
		_, err := sess.Forward(toks[:step.feed])
		require.NoError(t, err)
		require.Equal(t, int64(step.positions)*perPos, sess.KVCacheBytes(), "after %d positions", sess.Len())
	}
}

// Interleaving two sessions of one model must not change either's output.
func TestSessionsIsolated(t *testing.T) {
	s, m := archModel(t, engine.ArchLlama)
	a, b := tokens(10, 8, s.vocab), tokens(11, 8, s.vocab)
	alone := forward(t, m, a, 4, 1, 1, 1, 1)
	sa, sb := m.NewSession(), m.NewSession()
	var got [][]float32
	for i, c := range []int{4, 1, 1, 1, 1} {
		_, err := sb.Forward(b[:c])
		require.NoError(t, err)
		b = b[c:]
		lg, err := sa.Forward(a[:c])
		require.NoError(t, err)
		got = append(got, append([]float32(nil), lg...))
		a = a[c:]
		require.Equal(t, alone[i], got[i], "step %d", i)
	}
	require.Equal(t, 8, sa.Len())
}

func TestPhi3FusedEqualsLlama(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	w := randomWeights(s, 2)
	llama := newModel(t, s, w.tensors(safetensors.BF16))
	ps := s
	ps.arch = engine.ArchPhi3
	phi := newModel(t, ps, w.fusePhi3(s.layers).tensors(safetensors.BF16))
	require.True(t, phi.Config().FusedQKV)
	toks := tokens(4, 9, s.vocab)
	want, got := forward(t, llama, toks, 5, 1, 1, 1, 1), forward(t, phi, toks, 5, 1, 1, 1, 1)
	for i := range want {
		requireLogitsClose(t, want[i], got[i], 1e-6, "step %d", i)
	}
}

func TestQwen2Biases(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	w := randomWeights(s, 3)
	llama := newModel(t, s, w.tensors(safetensors.F32))
	qs := s
	qs.arch = engine.ArchQwen2
	hd := s.hidden / s.heads
	zero, rnd := w.tensors(safetensors.F32), w.tensors(safetensors.F32)
	r := rand.New(rand.NewPCG(8, 8))
	for l := range s.layers {
		for name, n := range map[string]int{"q_proj": s.heads * hd, "k_proj": s.kvHeads * hd, "v_proj": s.kvHeads * hd} {
			full := fmt.Sprintf("model.layers.%d.self_attn.%s.bias", l, name)
			zero[full] = tensor(full, safetensors.F32, []int{n}, make([]float32, n))
			rnd[full] = tensor(full, safetensors.F32, []int{n}, values(r, n, 0, 0.5))
		}
	}
	toks := tokens(5, 7, s.vocab)
	want := forward(t, llama, toks, 7)[0]
	requireLogitsClose(t, want, forward(t, newModel(t, qs, zero), toks, 7)[0], 1e-6, "zero biases")
	require.Greater(t, maxDiff(want, forward(t, newModel(t, qs, rnd), toks, 7)[0]), 1e-3, "biases must be applied")
	_, err := engine.New(qs.config(t), w.tensors(safetensors.F32), engine.Options{})
	require.ErrorIs(t, err, engine.ErrMissingTensor)
	require.ErrorContains(t, err, "model.layers.0.self_attn.q_proj.bias")
}

// With one query attending to the last W positions, an L-layer model's last
// logits depend on exactly the last L·(W-1)+1 tokens (RoPE scores depend on
// relative positions only): that suffix alone reproduces them, one token
// fewer does not, and without a window the whole prefix matters.
func TestMistralSlidingWindow(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	w := randomWeights(s, 4)
	llama := newModel(t, s, w.tensors(safetensors.BF16))
	toks := tokens(6, 20, s.vocab)
	want := forward(t, llama, toks, 20)[0]

	wide := s
	wide.arch, wide.window = engine.ArchMistral, 20
	requireLogitsClose(t, want, forward(t, newModel(t, wide, w.tensors(safetensors.BF16)), toks, 20)[0], 1e-6, "window ≥ length")

	for _, win := range []int{2, 4, 6} {
		ms := s
		ms.arch, ms.window = engine.ArchMistral, win
		m := newModel(t, ms, w.tensors(safetensors.BF16))
		full := forward(t, m, toks, 20)[0]
		field := s.layers*(win-1) + 1
		require.Greater(t, maxDiff(want, full), 1e-3, "window %d must change the result", win)
		requireLogitsClose(t, full, forward(t, m, toks[20-field:], field)[0], 1e-4, "window %d: suffix %d", win, field)
		require.Greater(t, maxDiff(full, forward(t, m, toks[20-field+1:], field-1)[0]), 1e-4, "window %d: suffix %d", win, field-1)
		inc := forward(t, m, toks, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
		requireLogitsClose(t, full, inc[len(inc)-1], tol, "window %d decode", win)
	}
}

// F32 and BF16 storage of the same values give the same logits.
func TestDTypes(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	w := randomWeights(s, 5)
	toks := tokens(7, 6, s.vocab)
	want := forward(t, newModel(t, s, w.tensors(safetensors.F32)), toks, 6)[0]
	requireLogitsClose(t, want, forward(t, newModel(t, s, w.tensors(safetensors.BF16)), toks, 6)[0], 1e-6)
}

func TestTiedEmbeddings(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	w := randomWeights(s, 6)
	w["lm_head.weight"] = w["model.embed_tokens.weight"]
	toks := tokens(8, 5, s.vocab)
	want := forward(t, newModel(t, s, w.tensors(safetensors.F32)), toks, 5)[0]
	ts := s
	ts.tie = true
	delete(w, "lm_head.weight")
	requireLogitsClose(t, want, forward(t, newModel(t, ts, w.tensors(safetensors.F32)), toks, 5)[0], 1e-6)
	_, err := engine.New(s.config(t), w.tensors(safetensors.F32), engine.Options{})
	require.ErrorIs(t, err, engine.ErrMissingTensor)
	require.ErrorContains(t, err, "lm_head.weight")
}

func TestForwardErrors(t *testing.T) {
	s, m := archModel(t, engine.ArchLlama)
	sess := m.NewSession()
	_, err := sess.Forward(nil)
	require.Error(t, err)
	_, err = sess.Forward([]int{s.vocab})
	require.ErrorIs(t, err, engine.ErrBadToken)
	_, err = sess.Forward([]int{-1})
	require.ErrorIs(t, err, engine.ErrBadToken)
	_, err = sess.Forward(tokens(1, s.maxPos+1, s.vocab))
	require.ErrorIs(t, err, engine.ErrContextExceeded)
	require.Equal(t, 0, sess.Len(), "a refused call leaves the session unchanged")
	_, err = sess.Forward(tokens(1, s.maxPos-1, s.vocab))
	require.NoError(t, err)
	_, err = sess.Forward([]int{1})
	require.NoError(t, err)
	_, err = sess.Forward([]int{1})
	require.ErrorIs(t, err, engine.ErrContextExceeded)
	require.Equal(t, s.maxPos, sess.Len())
}

func TestShapeErrors(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	cases := []struct {
		name   string
		mutate func(engine.TensorMap)
		is     error
		msg    string
	}{
		{"wrong shape", func(m engine.TensorMap) {
			tn := m["model.layers.1.mlp.up_proj.weight"]
			tn.Shape = []int{s.hidden, s.inter}
			m["model.layers.1.mlp.up_proj.weight"] = tn
		}, engine.ErrShapeMismatch, "model.layers.1.mlp.up_proj.weight: expected [80 48], got [48 80]"},
		{"missing", func(m engine.TensorMap) { delete(m, "model.norm.weight") }, engine.ErrMissingTensor, "model.norm.weight"},
		{"short data", func(m engine.TensorMap) {
			tn := m["model.embed_tokens.weight"]
			tn.Data = tn.Data[:len(tn.Data)-2]
			m["model.embed_tokens.weight"] = tn
		}, engine.ErrShapeMismatch, "model.embed_tokens.weight"},
		{"dtype", func(m engine.TensorMap) {
			tn := m["model.norm.weight"]
			tn.DType = "I8"
			m["model.norm.weight"] = tn
		}, engine.ErrUnsupported, "dtype I8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := randomWeights(s, 1).tensors(safetensors.BF16)
			c.mutate(m)
			_, err := engine.New(s.config(t), m, engine.Options{})
			require.ErrorIs(t, err, c.is)
			require.ErrorContains(t, err, c.msg)
		})
	}
}
