package rbee

import "embed"

// Tokenizers holds the real tokenizer fixtures (testdata/tokenizers/<family>/)
// so the tiny-model generator and the tests need nothing outside the module.
//
//go:embed testdata/tokenizers
var Tokenizers embed.FS

// RealModels holds the real trained models the suite runs in every matrix
// run (testdata/realmodel/<model>/: stories260K's hf/ folder and .gguf),
// so the hub mirror can serve them without a network.
//
//go:embed testdata/realmodel
var RealModels embed.FS
