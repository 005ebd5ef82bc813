package rustworker

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The architecture comes from model_type, else architectures[0].
func TestArchOf(t *testing.T) {
	tests := []struct{ config, want string }{
		{`{"model_type":"qwen2","architectures":["LlamaForCausalLM"]}`, "qwen2"},
		{`{"architectures":["Phi3ForCausalLM"]}`, "phi3"},
		{`{"architectures":["MistralForCausalLM"]}`, "mistral"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(tt.config), 0o644))
		got, err := archOf(dir)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{}`), 0o644))
	_, err := archOf(dir)
	assert.ErrorContains(t, err, "neither model_type nor architectures")
}

// --model is a folder (every *.safetensors) or one .safetensors file.
func TestWeightFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.safetensors", "a.safetensors", "config.json"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	d, files, err := weightFiles(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, d)
	assert.Equal(t, []string{filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")}, files)

	d, files, err = weightFiles(filepath.Join(dir, "b.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, dir, d)
	assert.Equal(t, []string{filepath.Join(dir, "b.safetensors")}, files)

	_, _, err = weightFiles(t.TempDir())
	assert.ErrorContains(t, err, "No safetensors files found")
}
