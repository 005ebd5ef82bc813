// Package agree holds the tests that hold the Go engine to llama.cpp: the same
// GGUF file through both engines, greedy, token for token (issue 15's judge,
// and issue 10's whole-model check of the quantized kernels). It has no
// product code; see internal/llamacpp for how llama.cpp runs.
package agree
