@cp4
Feature: CP4 multi-model matrix
  The checkpoint 4 gate: every model runs on every backend of every pool.
  For each pool (in parallel) and each model (one at a time) the matrix
  registers the model, downloads it from the hub, checks the pool can hold
  it, spawns llm-worker-rbee, waits until it is ready, runs the same greedy
  request twice (temperature 0, seed 42: identical output), checks the event
  stream against the protocol rules, stops the worker and checks no process
  is left; then it writes matrix.json and MODEL_SUPPORT.md.
  Here the models are the CI set: the real trained stories260K as an HF
  folder and as GGUF (whose cells pass only on llama2.c's published greedy
  text) and the four tiny random-weight models as HF folders and as Q8_0
  GGUF files, served by the embedded hub mirror, on two harness pools: this
  machine, and a private OpenSSH pool on loopback reached over SSH exactly
  like a remote one.

  @cp4.matrix
  Scenario: stories260K and the four tiny models pass on localhost and on an SSH pool
    Given the matrix pools "localhost:cpu,harness:cpu"
    And the matrix models "tiny"
    When the matrix runs
    Then every model is downloaded on every pool
    And every cell passes
    And no worker is left on any pool
    And the results table shows every model as passed on "localhost/cpu,harness/cpu"
    And the results hold 20 cells with size, load, first-token and tokens/s figures

  Scenario: An unreachable hub fails the run at once, before any cell
    Given the matrix pools "localhost:cpu"
    And the matrix models "seed"
    And the matrix hub "http://127.0.0.1:1"
    When the matrix runs
    Then the matrix fails within 10 seconds with "hub not reachable: http://127.0.0.1:1"
    And no cell ran

  # GPU pools run the seed-era Rust worker (rust-worker-seed.md). Here its
  # stand-in runs on a harness SSH pool with a fake GPU: a fake nvidia-smi
  # that lists only processes that registered with it.

  @cp4
  Scenario: On the seed-era Rust worker over SSH only Llama passes, and every other cell says why in its words
    Given the matrix pools "harness:cuda"
    And the matrix models "tiny"
    And the matrix pools run the Rust worker for cuda on a fake GPU
    When the matrix runs
    Then the cell "tiny-llama" on "harness/cuda" passes
    And the cell "tiny-qwen2" on "harness/cuda" fails with "execute: run 1: worker error INFERENCE_FAILED: cannot broadcast ["
    And the cell "tiny-mistral" on "harness/cuda" fails with "execute: run 1: worker error INFERENCE_FAILED: cannot broadcast ["
    And the cell "tiny-phi3" on "harness/cuda" fails with "spawn: exited before ready: Unsupported model architecture: phi3"
    And the results table shows "❌ (spawn: exited before ready: Unsupported model architecture: phi3)" for "tiny-phi3"
    And the results table shows "❌ (execute: run 1: worker error INFERENCE_FAILED: cannot broadcast [" for "tiny-qwen2"
    And the results table shows "✅" for "tiny-llama"
    And no worker is left on any pool

  @cp4
  Scenario: A "cuda" build that runs on the CPU is caught by the GPU-use check
    Given the matrix pools "localhost:cuda"
    And the matrix models "tiny-llama"
    And the matrix pools run a CPU-only build named llm-worker-rbee-cuda on a fake GPU
    When the matrix runs
    Then the cell "tiny-llama" on "localhost/cuda" fails with "gpu: worker did not use the GPU (nvidia-smi lists no process"
    And no worker is left on any pool
