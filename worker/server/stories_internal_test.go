package server

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/realmodel"
)

// TestStories260KFromBOS runs the generation loop of /execute on the real
// stories260K model in both formats, loaded by Load, from BOS alone: the
// protocol needs a non-empty prompt, and an empty text encodes to just BOS,
// which is how llama2.c's published runs start.
func TestStories260KFromBOS(t *testing.T) {
	for _, format := range []struct {
		name  string
		model func(dir string) (string, error)
	}{
		{"hf folder", func(dir string) (string, error) { return dir, realmodel.WriteHF(dir) }},
		{"gguf file", func(dir string) (string, error) {
			return filepath.Join(dir, realmodel.GGUFFile), realmodel.WriteGGUF(dir)
		}},
	} {
		t.Run(format.name, func(t *testing.T) {
			path, err := format.model(filepath.Join(t.TempDir(), "stories260K"))
			require.NoError(t, err)
			storiesFromBOS(t, path)
		})
	}
}

func storiesFromBOS(t *testing.T, path string) {
	b, err := Load(path, LoadOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	bos := b.Tokenizer.Encode("", true)
	require.Equal(t, []int{1}, bos)

	gen := func(maxTokens int) (string, []worker.Event, worker.Event) {
		req := worker.NewExecuteRequest("bos", "-", maxTokens)
		req.Temperature = 0
		var evs []worker.Event
		g := &generation{backend: b, req: req, prompt: bos, emit: func(ev worker.Event) error { evs = append(evs, ev); return nil }}
		term := g.run(context.Background())
		var text strings.Builder
		for _, ev := range evs {
			text.WriteString(ev.Text)
		}
		return text.String(), evs, term
	}

	t.Run("200 tokens", func(t *testing.T) {
		text, _, term := gen(realmodel.BOSTokens)
		assert.Empty(t, realmodel.Diff(text, realmodel.BOSText))
		assert.Equal(t, worker.StopMaxTokens, term.StopReason)
		assert.Equal(t, realmodel.BOSTokens, term.TokensOut)
	})
	t.Run("end of story", func(t *testing.T) {
		text, evs, term := gen(realmodel.EOSAfter + 100)
		assert.Equal(t, worker.EventEnd, term.Type)
		assert.Equal(t, worker.StopEOS, term.StopReason, "the story ends on token %d", realmodel.EOSToken)
		assert.Equal(t, realmodel.EOSAfter, term.TokensOut)
		assert.Len(t, evs, realmodel.EOSAfter, "one text event per token")
		assert.True(t, strings.HasPrefix(text, realmodel.BOSText))
		t.Logf("story of %d tokens: %q", term.TokensOut, text)
	})
}
