package engine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// Phi-3-mini-4k's config has sliding_window 2047. The engine follows Hugging
// Face transformers' mask (masking_utils.sliding_window_overlay: key k is
// visible to query q when q-W < k ≤ q), so the query at position p sees the
// 2047 positions p-2046..p. (llama.cpp disables Phi-3's window altogether,
// llama.cpp#13676, and Phi-3's original flash-attention code saw 2048 keys;
// both differ from this only for prompts beyond 2047 tokens.)
//
// With one layer, the logits at p depend only on the tokens the query sees,
// and RoPE scores depend only on relative positions, so the edge is exact:
// at p = 2046 the window is the whole prefix; at p = 2047 it has dropped
// position 0, and equals the full-attention logits of the sequence without
// its first token.
func TestPhi3SlidingWindowEdge(t *testing.T) {
	const window = 2047
	s := smallSpec(engine.ArchPhi3)
	s.layers, s.maxPos = 1, 4096
	w := randomWeights(s, 11).fusePhi3(s.layers).tensors(safetensors.F32)
	full := newModel(t, s, w)
	s.window = window
	phi := newModel(t, s, w)
	require.Equal(t, window, phi.Config().SlidingWindow)
	toks := tokens(12, window+1, s.vocab)

	requireLogitsClose(t, forward(t, full, toks, window)[0], forward(t, phi, toks, window)[0], 1e-6,
		"p = 2046 sees positions 0..2046: the window is the whole prefix")
	edge := forward(t, phi, toks, window+1)[0]
	require.Greater(t, maxDiff(forward(t, full, toks, window+1)[0], edge), 1e-3, "p = 2047 no longer sees position 0")
	requireLogitsClose(t, forward(t, full, toks[1:], window)[0], edge, 1e-4, "p = 2047 sees exactly positions 1..2047")
	dec := forward(t, phi, toks, window-1, 1, 1)
	requireLogitsClose(t, edge, dec[2], tol, "decode steps across the edge")
}
