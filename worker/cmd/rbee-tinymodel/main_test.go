package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no flags", nil, 2},
		{"arch without out", []string{"--arch", "llama"}, 2},
		{"all with arch", []string{"--all", dir, "--arch", "llama"}, 2},
		{"bad flag", []string{"--nope"}, 2},
		{"unknown arch", []string{"--arch", "gpt2", "--out", dir}, 1},
		{"one model", []string{"--arch", "phi3", "--out", filepath.Join(dir, "phi3"), "--seed", "3"}, 0},
		{"all", []string{"--all", filepath.Join(dir, "hub")}, 0},
		{"unknown gguf type", []string{"--arch", "llama", "--out", dir, "--gguf", "Q9_9"}, 2},
		{"empty gguf list", []string{"--arch", "llama", "--out", dir, "--gguf", ""}, 2},
		{"gguf of an unknown arch", []string{"--arch", "gpt2", "--out", dir, "--gguf", "F32"}, 1},
		{"gguf files", []string{"--arch", "llama", "--out", filepath.Join(dir, "gguf"), "--gguf", "f32,Q8_0"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.code, run(tt.args))
		})
	}
	assert.FileExists(t, filepath.Join(dir, "phi3", "model.safetensors"))
	assert.FileExists(t, filepath.Join(dir, "phi3", "config.json"))
	// --all writes the matrix's whole tiny set, stories260K included, for an external mirror
	for _, f := range []string{"tiny-mistral/config.json", "stories260K/model.safetensors", "stories260K-GGUF/stories260K.gguf"} {
		assert.FileExists(t, filepath.Join(dir, "hub", "rbee-testing", filepath.FromSlash(f)))
	}
	assert.FileExists(t, filepath.Join(dir, "gguf", "tiny-llama-F32.gguf"))
	assert.FileExists(t, filepath.Join(dir, "gguf", "tiny-llama-Q8_0.gguf"))
	assert.NoFileExists(t, filepath.Join(dir, "gguf", "config.json"), "--gguf writes only the GGUF files")
}
