package llamacpp_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/llamacpp"
	"github.com/rbee-go/rbee/worker/realmodel"
)

var stories260K = filepath.Join("..", "..", "testdata", "realmodel", "stories260K", "stories260K.gguf")

// nearTie is the README's rule: llama.cpp agrees with the float32 reference
// except where its top two logits are within about 0.002 (rounding, e.g. of
// an F16 KV cache, may flip such a step).
const nearTie = 0.002

// checkPublished walks llama.cpp's steps along the published text: every
// step's text must continue it, until the text is complete. A departure is
// allowed only at a near-tie, and then nothing after it can be compared.
func checkPublished(t *testing.T, steps []llamacpp.Step, prefix, want string) {
	t.Helper()
	got := prefix
	for i, s := range steps {
		next := got + s.Text
		if !strings.HasPrefix(want, next) {
			t.Logf("step %d: llama.cpp writes %q where the published text goes on with %q; its top-2 margin is %.5f",
				i, s.Text, want[len(got):min(len(want), len(got)+len(s.Text)+8)], s.Margin())
			assert.Less(t, s.Margin(), float32(nearTie), "llama.cpp departs from the published text at a step that is no near-tie")
			return
		}
		got = next
		if got == want {
			assert.Equal(t, len(steps)-1, i, "the published text ends after %d tokens, llama.cpp wrote %d", i+1, len(steps))
			return
		}
	}
	assert.Equal(t, want, got, "llama.cpp stopped short of the published text")
}

func TestStories260KPublishedOutputs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("Once upon a time", func(t *testing.T) {
		steps, err := llamacpp.Greedy(ctx, stories260K, realmodel.PromptIDs(), realmodel.PromptTokens)
		require.NoError(t, err)
		checkPublished(t, steps, realmodel.Prompt, realmodel.PromptText)
	})

	t.Run("BOS, then the end of story", func(t *testing.T) {
		steps, err := llamacpp.Greedy(ctx, stories260K, []int{1}, realmodel.EOSAfter+1)
		require.NoError(t, err)
		// The first token is "▁Once": llama2.c drops the space after BOS.
		first := steps[0]
		first.Text = strings.TrimPrefix(first.Text, " ")
		checkPublished(t, append([]llamacpp.Step{first}, steps[1:realmodel.BOSTokens]...), "", realmodel.BOSText)
		// llama2.c models end a story with token 1 (BOS), here as the 346th token.
		ids := llamacpp.Tokens(steps)
		assert.NotContains(t, ids[:realmodel.EOSAfter], realmodel.EOSToken)
		assert.Equal(t, realmodel.EOSToken, ids[realmodel.EOSAfter])
		for i, s := range steps {
			assert.Positive(t, s.Margin(), "step %d", i)
			assert.NotEqual(t, s.Token, s.Top2Token, "step %d", i)
			if s.Margin() < nearTie {
				t.Logf("near-tie at step %d: margin %.5f", i, s.Margin())
			}
		}
	})
}

func TestBench(t *testing.T) {
	tm, err := llamacpp.Bench(context.Background(), stories260K, 16, 4, 1)
	require.NoError(t, err)
	assert.Equal(t, llamacpp.Timing{PromptTokens: 16, GenTokens: 4, Threads: 1, Prefill: tm.Prefill, Decode: tm.Decode}, tm)
	assert.Positive(t, tm.Prefill)
	assert.Positive(t, tm.Decode)
	assert.Positive(t, tm.DecodeTokPerSec())
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("not installed", func(t *testing.T) {
		t.Setenv("RBEE_LLAMACPP", t.TempDir())
		_, err := llamacpp.Greedy(ctx, stories260K, []int{1}, 4)
		require.ErrorIs(t, err, llamacpp.ErrNotInstalled)
		assert.Contains(t, err.Error(), "scripts/deps.sh")
	})
	t.Run("missing model", func(t *testing.T) {
		_, err := llamacpp.Greedy(ctx, filepath.Join(t.TempDir(), "none.gguf"), []int{1}, 4)
		require.Error(t, err)
		assert.NotErrorIs(t, err, llamacpp.ErrNotInstalled)
	})
	t.Run("bad arguments", func(t *testing.T) {
		_, err := llamacpp.Greedy(ctx, stories260K, nil, 4)
		require.Error(t, err)
		_, err = llamacpp.Bench(ctx, stories260K, 0, 4, 1)
		require.Error(t, err)
	})
}

func TestFirstDifference(t *testing.T) {
	judge := []llamacpp.Step{{Token: 5, Top1: -0.1, Top2: -0.2}, {Token: 6, Top1: -0.5, Top2: -0.501, Text: "x"}}
	_, differ := llamacpp.FirstDifference([]int{5, 6}, judge)
	assert.False(t, differ)
	d, differ := llamacpp.FirstDifference([]int{5, 7}, judge)
	require.True(t, differ)
	assert.Equal(t, 1, d.Index)
	assert.Equal(t, 7, d.Ours)
	assert.Equal(t, 6, d.Judge)
	assert.InDelta(t, 0.001, d.Margin, 1e-6)
	assert.Contains(t, d.String(), "margin 0.00100")
}
