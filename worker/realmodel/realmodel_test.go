package realmodel_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/realmodel"
)

func sha(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestWriteHub: both repos hold the fixture's files byte for byte (the
// hashes of the fixture README).
func TestWriteHub(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, realmodel.WriteHub(root))
	hf := filepath.Join(root, "rbee-testing", "stories260K")
	gg := filepath.Join(root, "rbee-testing", "stories260K-GGUF")
	assert.Equal(t, "c549afd8464a1250200b5338d39d23d0bf096c7f6578944268d40512c133daa6", sha(t, filepath.Join(hf, "model.safetensors")))
	assert.Equal(t, "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d", sha(t, filepath.Join(gg, realmodel.GGUFFile)))
	for _, f := range []string{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "README.md", "LICENSE"} {
		assert.FileExists(t, filepath.Join(hf, f))
	}
	for _, f := range []string{"README.md", "LICENSE"} {
		assert.FileExists(t, filepath.Join(gg, f))
	}
	entries, err := os.ReadDir(gg)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "the GGUF repo holds one model file")
}

func TestReferenceTexts(t *testing.T) {
	assert.Equal(t, ", there was a little girl", realmodel.Continuation()[:25])
	assert.Equal(t, realmodel.PromptText, realmodel.BOSText[:len(realmodel.PromptText)], "the prompt run and the BOS run agree where they overlap")
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name, got, want, says string
	}{
		{"equal", "abc", "abc", ""},
		{"differs", "Once upon a tame", "Once upon a time", `differs at byte 13: got "ame", want "ime" (after "nce upon a t")`},
		{"short", "Once", "Once upon", `ends at byte 4 of 9: missing " upon" (after "Once")`},
		{"long", "Once upon", "Once", `extra " upon"`},
		{"multibyte", "café", "cafe", `differs at byte 3: got "é", want "e" (after "caf")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := realmodel.Diff(tt.got, tt.want)
			if tt.says == "" {
				assert.Empty(t, d)
				return
			}
			assert.Contains(t, d, tt.says)
		})
	}
}
