// Package rustworker is a stand-in for the seed-era Rust llm-worker-rbee
// (veighnsche/llama-orch at d2984c57, candle), the only worker with CUDA and
// Metal backends, which cannot be built here. It reproduces that worker's
// documented behaviour (rust-worker-seed.md, copied to testdata/) so the
// hive, keeper and matrix are tested against what GPU pools really run:
// the three binaries and their clap command lines, the ready callback sent
// before the port is bound (exit 1 when it fails), the 0.0.0.0 bind, the
// buffered SSE stream with started_at "0", model "model" and stop_reason
// always MAX_TOKENS, the 415/422/400 error shapes, a lone error event on
// failure, SIGTERM = immediate death, F32 weight loading, Phi-3 refused at
// start, and the Qwen2/Mistral KV cache that is never reset (the second
// request fails on the CPU, the first after the warm-up on the GPU builds).
//
// Tokens are real: the Go engine (worker/engine, worker/tokenizer,
// worker/sample) runs underneath. The GPU builds "use" a GPU only through
// the test bed's fake nvidia-smi (see RegisterGPU); it is part of the test
// bed, never of the product.
package rustworker
