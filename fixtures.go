package rbee

import "embed"

// Tokenizers holds the real tokenizer fixtures (testdata/tokenizers/<family>/)
// so the tiny-model generator and the tests need nothing outside the module.
//
//go:embed testdata/tokenizers
var Tokenizers embed.FS
