package reference_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/realmodel"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

// storiesTol bounds max |engine - reference| for the real trained
// stories260K (logits of order 10): both run float32 weights, the engine in
// float32, forward.py in float64, so only rounding may differ. The wrong
// RoPE layout moves logits by about 0.07 already at position 1.
const storiesTol = 1e-4

// TestStories260KMatchesReference checks the Go engine's logits on the real
// stories260K HF folder against the independent NumPy forward pass
// (forward.py, HF rotate_half RoPE) at every position of the published
// "Once upon a time" text, through prefill and the KV cache. The reference's
// own greedy choice at each position must also be the text's next token, so
// both engines write llama2.c's published story.
func TestStories260KMatchesReference(t *testing.T) {
	requireNumPy(t)
	dir := filepath.Join(t.TempDir(), "stories260K")
	require.NoError(t, realmodel.WriteHF(dir))
	tok, err := tokenizer.Load(dir)
	require.NoError(t, err)
	tokens := tok.Encode(realmodel.PromptText, true)
	require.Equal(t, realmodel.PromptIDs(), tokens[:len(realmodel.PromptIDs())])
	positions := make([]int, len(tokens))
	for i := range positions {
		positions[i] = i
	}
	want := reference(t, dir, tokens, positions)

	m, err := engine.Load(dir, engine.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })

	prefill := len(realmodel.PromptIDs())
	sess := m.NewSession()
	got, err := sess.Forward(tokens[:prefill])
	require.NoError(t, err)
	var worst, scale float64
	for pos := prefill - 1; pos < len(tokens); pos++ {
		if pos >= prefill {
			got, err = sess.Forward(tokens[pos : pos+1])
			require.NoError(t, err)
		}
		d, s := compare(t, want[pos], got)
		worst, scale = max(worst, d), max(scale, s)
		assert.LessOrEqualf(t, d, storiesTol, "position %d: max |engine - reference| = %.3g", pos, d)
		if pos+1 < len(tokens) {
			assert.Equalf(t, tokens[pos+1], argmax(want[pos]), "position %d: the reference's greedy token is not the published text's", pos)
			assert.Equalf(t, tokens[pos+1], argmax32(got), "position %d: the engine's greedy token is not the published text's", pos)
		}
	}
	// the check must be able to fail: neighbouring positions differ by far more than the tolerance
	d, _ := compare(t, want[prefill], toF32(want[prefill+1]))
	assert.Greater(t, d, 1000*storiesTol)
	t.Logf("stories260K, %d positions: max |engine - reference| = %.3g over logit scale %.3g", len(tokens)-prefill+1, worst, scale)
}

func argmax(v []float64) int { return slices.Index(v, slices.Max(v)) }

func argmax32(v []float32) int { return slices.Index(v, slices.Max(v)) }
