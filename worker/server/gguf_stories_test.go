package server_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/realmodel"
	"github.com/rbee-go/rbee/worker/server"
)

func storiesGGUF(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stories260K-GGUF")
	require.NoError(t, realmodel.WriteGGUF(dir))
	return filepath.Join(dir, realmodel.GGUFFile)
}

// TestStories260KGGUFPublished: the worker on stories260K.gguf alone
// (weights, config and tokenizer from its metadata) writes llama2.c's
// published greedy outputs exactly.
func TestStories260KGGUFPublished(t *testing.T) {
	b, err := server.Load(storiesGGUF(t), server.LoadOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	assert.Equal(t, "stories260K", b.Name)
	assert.Equal(t, realmodel.PromptIDs(), b.Tokenizer.Encode(realmodel.Prompt, true), "the GGUF tokenizer")
	assert.Equal(t, []int{1}, b.Tokenizer.Encode("", true))

	_, c := start(t, b, server.Options{})
	evs := run(t, c, greedy("stories-gguf", realmodel.Prompt, realmodel.PromptTokens))
	assert.Empty(t, realmodel.Diff(realmodel.Prompt+worker.Text(evs), realmodel.PromptText))
	assert.Equal(t, realmodel.PromptTokens, last(evs).TokensOut)

	// From BOS alone (the protocol needs a prompt, so through a session):
	// the 200-token text, and token 1 (end of story) after 345 tokens.
	sess := b.Model.NewSession()
	logits, err := sess.ForwardContext(context.Background(), []int{1})
	require.NoError(t, err)
	var gen []int
	for len(gen) <= realmodel.EOSAfter {
		id := slices.Index(logits, slices.Max(logits))
		gen = append(gen, id)
		if logits, err = sess.ForwardContext(context.Background(), []int{id}); err != nil {
			require.NoError(t, err)
		}
	}
	dec := b.Tokenizer.NewStreamDecoder([]int{1}, true)
	var text strings.Builder
	for _, id := range gen[:realmodel.BOSTokens] {
		text.WriteString(dec.Push(id))
	}
	text.WriteString(dec.Flush())
	assert.Empty(t, realmodel.Diff(text.String(), realmodel.BOSText))
	assert.Equal(t, realmodel.EOSToken, gen[realmodel.EOSAfter], "the story ends after %d tokens", realmodel.EOSAfter)
	assert.NotContains(t, gen[:realmodel.EOSAfter], realmodel.EOSToken, "and not before")
}

// TestStories260KGGUFMatchesHF: the same weights as GGUF (adjacent-pair
// RoPE over the original q/k rows) and as an HF folder (rotate_half over
// permuted rows) give the same logits at every position of the published
// story, one token at a time and after a batched prefill.
func TestStories260KGGUFMatchesHF(t *testing.T) {
	const tol = 1e-4
	gg, err := engine.LoadGGUF(storiesGGUF(t), engine.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, gg.Close()) })
	assert.True(t, gg.Config().RopeInterleaved)
	dir := filepath.Join(t.TempDir(), "stories260K")
	require.NoError(t, realmodel.WriteHF(dir))
	hf, err := engine.Load(dir, engine.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, hf.Close()) })

	b, err := server.Load(dir, server.LoadOptions{Threads: 1})
	require.NoError(t, err)
	tokens := b.Tokenizer.Encode(realmodel.PromptText, true)
	require.NoError(t, b.Close())
	sg, sh := gg.NewSession(), hf.NewSession()
	var worst float64
	for pos, id := range tokens {
		a, err := sg.Forward([]int{id})
		require.NoError(t, err)
		w, err := sh.Forward([]int{id})
		require.NoError(t, err)
		d := maxAbsDiff(a, w)
		worst = max(worst, d)
		require.LessOrEqualf(t, d, tol, "position %d", pos)
	}
	a, err := gg.NewSession().Forward(tokens)
	require.NoError(t, err)
	w, err := hf.NewSession().Forward(tokens)
	require.NoError(t, err)
	require.LessOrEqual(t, maxAbsDiff(a, w), tol, "batched prefill")
	t.Logf("stories260K GGUF vs HF, %d positions: max |logit difference| = %.3g", len(tokens), worst)
}

func maxAbsDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}
