// Package realmodel is the real trained model of every matrix run:
// stories260K (Karpathy's llama2.c TinyStories model, MIT, 1 MB), embedded
// from testdata/realmodel/stories260K. It writes the model's two hub repos
// (an HF safetensors folder and a GGUF file) and holds the greedy outputs
// llama2.c publishes for it, which an engine must reproduce exactly.
package realmodel

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/rbee-go/rbee"
)

// Hub repos and catalog ids of stories260K (catalog ids are lower case).
const (
	Org      = "rbee-testing"
	HFRepo   = Org + "/stories260K"
	GGUFRepo = Org + "/stories260K-GGUF"
	GGUFFile = "stories260K.gguf"
	HFID     = "stories260k"
	GGUFID   = "stories260k-gguf"
)

// fixture is the embedded folder (see its README.md).
const fixture = "testdata/realmodel/stories260K"

// Published greedy outputs (float32, temperature 0; llama2.c's docs and
// test_all.py, quoted in the fixture README).
const (
	// Prompt encodes to PromptIDs. llama2.c's `run -i PROMPT -n 64` counts
	// the 4 prompt tokens after BOS in its 64 steps, so PromptText is the
	// prompt followed by PromptTokens generated tokens.
	Prompt       = "Once upon a time"
	PromptTokens = 60
	PromptText   = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily"

	// BOSText is the greedy text of BOSTokens tokens after BOS alone.
	BOSTokens = 200
	BOSText   = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n" +
		"Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. She said, \"I want to play with your ball, but I can't find it.\"\n" +
		"Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n" +
		"Lily didn't want to help her mom, so she"

	// From BOS alone the model ends its story with EOSToken (BOS, as all
	// llama2.c models do) after EOSAfter tokens.
	EOSToken = 1
	EOSAfter = 345
)

// PromptIDs is the encoding of Prompt with BOS.
func PromptIDs() []int { return []int{1, 403, 407, 261, 378} }

// Continuation is what a worker streams for Prompt: PromptText without the prompt.
func Continuation() string { return PromptText[len(Prompt):] }

// WriteHF writes the HF folder (config.json, generation_config.json,
// model.safetensors, tokenizer.json, tokenizer_config.json) with a model
// card and the licence into dir.
func WriteHF(dir string) error {
	files := map[string]string{"README.md": path.Join(fixture, "README.md"), "LICENSE": path.Join(fixture, "LICENSE-llama2.c-MIT")}
	entries, err := fs.ReadDir(rbee.RealModels, path.Join(fixture, "hf"))
	if err != nil {
		return fmt.Errorf("stories260K fixture: %w", err)
	}
	for _, e := range entries {
		files[e.Name()] = path.Join(fixture, "hf", e.Name())
	}
	return write(dir, files)
}

// WriteGGUF writes stories260K.gguf (the file llama.cpp's CI uses) with a
// model card and the licence into dir.
func WriteGGUF(dir string) error {
	return write(dir, map[string]string{
		GGUFFile:    path.Join(fixture, GGUFFile),
		"README.md": path.Join(fixture, "README.md"),
		"LICENSE":   path.Join(fixture, "LICENSE-llama2.c-MIT"),
	})
}

// WriteHub writes both repos as root/rbee-testing/stories260K and
// root/rbee-testing/stories260K-GGUF, for the hub mirror.
func WriteHub(root string) error {
	if err := WriteHF(filepath.Join(root, filepath.FromSlash(HFRepo))); err != nil {
		return fmt.Errorf("%s: %w", HFRepo, err)
	}
	if err := WriteGGUF(filepath.Join(root, filepath.FromSlash(GGUFRepo))); err != nil {
		return fmt.Errorf("%s: %w", GGUFRepo, err)
	}
	return nil
}

func write(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("stories260K: %w", err)
	}
	for name, src := range files {
		data, err := rbee.RealModels.ReadFile(src)
		if err != nil {
			return fmt.Errorf("stories260K fixture: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("stories260K: %w", err)
		}
	}
	return nil
}
