// Package reference holds an independent NumPy implementation of the
// decoder forward pass (forward.py, written from the Hugging Face modeling
// definitions, not from worker/engine) and the tests that check the Go
// engine's logits against it for every tiny architecture.
package reference
