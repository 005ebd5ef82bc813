package hfhub_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hfhub"
)

// tinyLlamaGGUF is the file list of TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF,
// the seed model's GGUF sibling (DESIGN §7).
func tinyLlamaGGUF() []hfhub.TreeEntry {
	var tree []hfhub.TreeEntry
	for _, p := range []string{".gitattributes", "README.md", "config.json"} {
		tree = append(tree, hfhub.TreeEntry{Type: "file", Path: p, Size: 1000})
	}
	for _, q := range []string{"Q2_K", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q4_0", "Q4_K_M", "Q4_K_S", "Q5_0", "Q5_K_M", "Q5_K_S", "Q6_K", "Q8_0"} {
		tree = append(tree, hfhub.TreeEntry{Type: "file", Path: "tinyllama-1.1b-chat-v1.0." + q + ".gguf", Size: 668788096})
	}
	return tree
}

func TestSelectGGUF(t *testing.T) {
	const repo = "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF"
	tests := []struct {
		name    string
		tree    []hfhub.TreeEntry
		include []string
		want    string
		err     error
		says    []string
	}{
		{"one quantisation", tinyLlamaGGUF(), []string{"*Q4_K_M.gguf"}, "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf", nil, nil},
		{"one quantisation and its config", tinyLlamaGGUF(), []string{"*Q8_0.gguf", "*.json"}, "tinyllama-1.1b-chat-v1.0.Q8_0.gguf", nil, nil},
		{"full name", tinyLlamaGGUF(), []string{"tinyllama-1.1b-chat-v1.0.Q2_K.gguf"}, "tinyllama-1.1b-chat-v1.0.Q2_K.gguf", nil, nil},
		{"several", tinyLlamaGGUF(), []string{"*Q4_K_*.gguf"}, "", hfhub.ErrAmbiguousGGUF,
			[]string{"selects 2 .gguf files", "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf, tinyllama-1.1b-chat-v1.0.Q4_K_S.gguf"}},
		{"all of them", tinyLlamaGGUF(), []string{"*.gguf"}, "", hfhub.ErrAmbiguousGGUF, []string{"selects 12 .gguf files"}},
		{"no such quantisation", tinyLlamaGGUF(), []string{"*IQ1_S.gguf"}, "", hfhub.ErrNoFiles,
			[]string{"selects no .gguf file", "tinyllama-1.1b-chat-v1.0.Q2_K.gguf", "tinyllama-1.1b-chat-v1.0.Q8_0.gguf"}},
		{"default set on a GGUF repo", tinyLlamaGGUF(), hfhub.DefaultInclude, "", hfhub.ErrNoFiles,
			[]string{"selects no .gguf file", "Q4_K_M.gguf"}},
		// patterns that match nothing at all are the file selection's refusal (TestIncludeMatchingNothingListsTheRepo)
		{"nothing matches, no gguf", []hfhub.TreeEntry{{Path: "model.safetensors"}, {Path: "config.json"}}, []string{"*.bin"}, "", nil, nil},
		{"a safetensors repo", []hfhub.TreeEntry{{Path: "model.safetensors"}, {Path: "config.json"}}, hfhub.DefaultInclude, "", nil, nil},
		{"safetensors beside a gguf", []hfhub.TreeEntry{{Path: "model.safetensors"}, {Path: "model.gguf"}}, hfhub.DefaultInclude, "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hfhub.SelectGGUF(tt.tree, repo, "main", tt.include)
			if tt.err == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.ErrorIs(t, err, tt.err)
			for _, s := range tt.says {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), "\n")
			var he *hfhub.Error
			require.ErrorAs(t, err, &he)
			assert.Contains(t, he.Hint, "--include")
		})
	}
}
