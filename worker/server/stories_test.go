package server_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/realmodel"
	"github.com/rbee-go/rbee/worker/server"
)

// loadStories loads the real trained stories260K HF folder the way
// llm-worker-rbee does (server.Load).
func loadStories(t *testing.T) *server.Backend {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stories260K")
	require.NoError(t, realmodel.WriteHF(dir))
	b, err := server.Load(dir, server.LoadOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return b
}

// TestStories260KPublishedContinuation: over HTTP, greedy decoding of
// "Once upon a time" writes exactly llama2.c's published continuation.
func TestStories260KPublishedContinuation(t *testing.T) {
	b := loadStories(t)
	assert.Equal(t, realmodel.PromptIDs(), b.Tokenizer.Encode(realmodel.Prompt, true))
	assert.ElementsMatch(t, []int{1, 2}, b.EOS, "llama2.c stories end with token 1 (BOS); generation_config.json lists [1, 2]")
	_, c := start(t, b, server.Options{})

	evs := run(t, c, greedy("stories", realmodel.Prompt, realmodel.PromptTokens))
	got := worker.Text(evs)
	assert.Empty(t, realmodel.Diff(realmodel.Prompt+got, realmodel.PromptText))
	assert.Equal(t, realmodel.PromptText, realmodel.Prompt+got)
	assert.Equal(t, worker.StopMaxTokens, last(evs).StopReason)
	assert.Equal(t, realmodel.PromptTokens, last(evs).TokensOut)

	// one token fewer misses the published text's last word: the count is the one llama2.c uses
	short := worker.Text(run(t, c, greedy("short", realmodel.Prompt, realmodel.PromptTokens-1)))
	assert.NotEqual(t, realmodel.Continuation(), short)
}
