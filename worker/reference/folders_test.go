package reference_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/tinymodel"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

// TestTinyFoldersLoad checks each generated folder is consistent the way
// the worker uses it: the tokenizer covers exactly the model's vocab, its
// EOS is one the model stops on, and a prompt runs through the engine.
func TestTinyFoldersLoad(t *testing.T) {
	for _, repo := range tinymodel.Repos() {
		t.Run(repo.ID, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, tinymodel.Generate(dir, repo.Arch, tinymodel.DefaultSeed))
			tok, err := tokenizer.Load(dir)
			require.NoError(t, err)
			m, err := engine.Load(dir, engine.Options{Threads: 1})
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })
			cfg := m.Config()
			assert.Equal(t, repo.Architecture, cfg.Architecture)
			assert.Equal(t, cfg.VocabSize, tok.VocabSize())
			eos, ok := tok.EOS()
			require.True(t, ok)
			assert.Contains(t, cfg.EOS, eos)
			if bos, ok := tok.BOS(); ok {
				assert.Equal(t, cfg.BOS, bos)
			}

			ids := tok.Encode("Hello, tiny world!", true)
			require.NotEmpty(t, ids)
			logits, err := m.NewSession().Forward(ids)
			require.NoError(t, err)
			assert.Len(t, logits, cfg.VocabSize)
		})
	}
}
