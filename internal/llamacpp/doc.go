// Package llamacpp runs llama.cpp as an independent judge and speed reference
// for the Go worker: test-side tooling, never imported by product code.
//
// llama.cpp comes as the prebuilt CPU library of the npm package
// node-llama-cpp (pinned by npm/package-lock.json), which scripts/deps.sh
// installs into .cache/llamacpp of the module root; judge.mjs (embedded) drives
// it through Node. Set RBEE_LLAMACPP to use an installation elsewhere (the
// folder holding node_modules). A missing installation is an error wrapping
// ErrNotInstalled, with the install hint, never a skip.
//
// Agreement tests:
//
//	steps, err := llamacpp.Greedy(ctx, "model.gguf", []int{1, 403}, 32)
//	// steps[i].Token is llama.cpp's greedy choice; steps[i].Margin() is the
//	// gap between its two best logits, to tell a real disagreement from a
//	// near-tie that rounding may flip.
//
// Benchmarks (issue 10): Bench times a P-token prefill and N decode steps with
// T threads on the same GGUF file the worker serves:
//
//	tm, err := llamacpp.Bench(ctx, "model.gguf", 128, 64, 2)
//	b.ReportMetric(tm.DecodeTokPerSec(), "llamacpp-decode-tok/s")
//
// Each call is a fresh Node process (1-2 s of start-up and model load, not
// counted in Timing). Both run llama.cpp's CPU build only. Greedy pins what
// could change results: an F32 KV cache (llama.cpp's default is F16), no
// flash attention, greedy sampling with no penalties (the sampler keeps the
// top two logits raw and the script feeds back the better one). Bench runs
// llama.cpp with its defaults (F16 KV cache), as its users run it.
package llamacpp
