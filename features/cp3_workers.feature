@cp3
Feature: CP3 worker lifecycle
  `rbee-hive worker spawn` returns only when the worker can serve, fails fast
  and clearly when it cannot, and never leaves a process or a record behind.
  `worker list` tells ready, loading and dead apart; `worker stop` ends a
  worker with SIGTERM (SIGKILL after --timeout); `worker logs` shows its output.
  These scenarios run the real Go worker (llm-worker-rbee) on a tiny model.

  Background:
    Given the tiny model "tiny-llama" is registered and downloaded

  @cp3.worker-spawn @cp3.worker-background @cp3.worker-record @cp3.worker-list @cp3.worker-stop
  Scenario: Spawn a worker, run inference through the keeper, list it, stop it
    Given a free port "PORT"
    When I run "rbee-hive worker spawn cpu --model tiny-llama --port ${PORT} --json"
    Then the command succeeds
    And the JSON at "id" is "worker-cpu-0"
    And the JSON at "state" is "ready"
    And the JSON at "port" is ${PORT}
    And the JSON at "uri" is "http://127.0.0.1:${PORT}"
    When I run "rbee-keeper infer --worker 127.0.0.1:${PORT} --prompt Hello --max-tokens 8 --temperature 0"
    Then the command succeeds
    And stdout contains "tokens"
    When I run "rbee-hive worker list --json"
    Then the command succeeds
    And the JSON at "0.id" is "worker-cpu-0"
    And the JSON at "0.state" is "ready"
    And the JSON at "0.model_id" is "tiny-llama"
    When I run "rbee-hive worker list"
    Then stdout contains "worker-cpu-0"
    And stdout contains "ready"
    When I run "rbee-hive worker stop worker-cpu-0"
    Then the command succeeds
    And stdout contains "stopped worker-cpu-0"
    And the worker list is empty
    And no worker process is left

  Scenario: Spawning a worker that is already running changes nothing
    Given a free port "PORT"
    When I run "rbee-hive worker spawn cpu --model tiny-llama --port ${PORT}"
    Then the command succeeds
    And stdout contains "worker-cpu-0 ready at http://127.0.0.1:${PORT}"
    When I run "rbee-hive worker spawn cpu --model tiny-llama"
    Then the command succeeds
    And stdout contains "worker-cpu-0 is already running at http://127.0.0.1:${PORT}"
    And stdout contains "nothing changed"
    And 1 worker process is running

  Scenario: The port asked for is busy: the worker gets the next free one
    Given a busy port "BUSY"
    When I run "rbee-hive worker spawn cpu --model tiny-llama --port ${BUSY} --json"
    Then the command succeeds
    And the JSON at "port" is a port above ${BUSY}
    And the worker "worker-cpu-0" answers healthy

  @cp3.worker-status @cp3.worker-cleanup
  Scenario: A worker killed from outside shows as dead, and stop clears it
    Given a free port "PORT"
    When I run "rbee-hive worker spawn cpu --model tiny-llama --port ${PORT}"
    Then the command succeeds
    When the worker "worker-cpu-0" is killed from outside
    And I run "rbee-hive worker list --json"
    Then the JSON at "0.state" is "dead"
    When I run "rbee-hive worker list"
    Then stdout contains "dead"
    When I run "rbee-hive worker stop worker-cpu-0"
    Then the command succeeds
    And stdout contains "was not running"
    And the worker list is empty

  @cp3.worker-logs
  Scenario: Logs of a running worker
    Given a free port "PORT"
    When I run "rbee-hive worker spawn cpu --model tiny-llama --port ${PORT}"
    Then the command succeeds
    When I run "rbee-hive worker logs worker-cpu-0"
    Then the command succeeds
    And stdout is not empty
    When I run "rbee-hive worker logs worker-cpu-0 --tail 1"
    Then the command succeeds
    And stdout has 1 line
    When I follow the logs of "worker-cpu-0" and stop the worker
    Then the follow ended when the worker exited

  @cp3.worker-cleanup @cp3.worker-logs
  Scenario: A worker that crashes at start-up: the error shows its last log lines
    Given a worker binary that prints 30 lines and exits with 3
    When I run "rbee-hive worker spawn cpu --model tiny-llama"
    Then the command fails with exit code 1
    And the error is "WORKER_STARTUP_FAILED"
    And stderr contains "exit status 3"
    And stderr shows the last 20 of the 30 log lines
    And the worker list is empty
    And no worker process is left
    When I run "rbee-hive worker logs worker-cpu-0 --tail 2"
    Then the command succeeds
    And stdout contains "boom 29"

  @cp3.worker-cleanup
  Scenario: A worker that never becomes ready is killed when --wait passes
    Given a worker binary that never becomes ready
    When I run "rbee-hive worker spawn cpu --model tiny-llama --wait 1s"
    Then the command fails with exit code 1
    And the error is "WORKER_STARTUP_FAILED"
    And stderr contains "did not become ready within 1s"
    And stderr contains "still loading"
    And the worker list is empty
    And no worker process is left

  Scenario Outline: Refused before any process starts: <code>
    Given the model "not-fetched" is registered but not downloaded
    And the model "cpu-only" is registered and downloaded for the backends "cpu"
    And the model "huge" is registered and downloaded with 2 TiB of weights
    And nvidia-smi reports GPU 0 with 1 MiB free
    And the environment variable "RBEE_WORKER_BIN" is "<bin>"
    When I run "rbee-hive worker spawn <args>"
    Then the command fails with exit code 1
    And the error is "<code>: <message>"
    And stderr has a hint
    And the worker list is empty
    And no worker process is left

    Examples:
      | code                    | args                            | bin                   | message                                        |
      | MODEL_NOT_FOUND         | cpu --model nope                |                       | model "nope" is not in this pool's catalog     |
      | MODEL_NOT_DOWNLOADED    | cpu --model not-fetched         |                       | model "not-fetched" is registered but not down |
      | BACKEND_UNSUPPORTED     | cuda --model cpu-only           |                       | model "cpu-only" supports backends [cpu]       |
      | BACKEND_UNAVAILABLE     | cuda --model tiny-llama --gpu 3 |                       | backend cuda (device 3) is not available       |
      | INSUFFICIENT_RAM        | cpu --model huge                |                       | model "huge" needs about                       |
      | INSUFFICIENT_VRAM       | cuda --model tiny-llama         |                       | model "tiny-llama" needs about                 |
      | WORKER_BINARY_NOT_FOUND | cpu --model tiny-llama          | /nonexistent/llm-wkr  | RBEE_WORKER_BIN=/nonexistent/llm-wkr is not    |

  Scenario: Stopping an unknown worker fails clearly
    When I run "rbee-hive worker stop worker-cpu-7"
    Then the command fails with exit code 1
    And the error is "WORKER_NOT_FOUND"
    And stderr has a hint

  # GPU pools run the seed-era Rust worker (rust-worker-seed.md): here its
  # stand-in, which runs the Go engine under the Rust worker's behaviour,
  # with a fake nvidia-smi that lists only processes that registered with it.

  @cp3
  Scenario: A cuda profile spawns llm-worker-rbee-cuda, which really holds the GPU
    Given a fake GPU on this host
    And the worker profiles:
      """
      [backends.cuda]
      profile = "rust-seed"
      bin = "${RUST_SEED}/llm-worker-rbee-cuda"
      env = { LLORCH_LOG_FORMAT = "json" }
      """
    And a free port "PORT"
    When I run "rbee-hive status --json"
    Then the JSON at "worker_profiles.cuda.profile" is "rust-seed"
    And the JSON at "worker_profiles.cuda.path" is "${RUST_SEED}/llm-worker-rbee-cuda"
    And the JSON at "worker_profiles.cuda.sources.bin" is "${RBEE_HOME}/worker-args.toml backends.cuda.bin"
    And the JSON at "worker_profiles.cuda.env.LLORCH_LOG_FORMAT" is "json"
    And the JSON at "worker_profiles.cpu.profile" is "go"
    When I run "rbee-keeper pool preflight --host localhost"
    Then the command succeeds
    And stdout contains "worker cuda: rust-seed: ${RUST_SEED}/llm-worker-rbee-cuda --worker-id {id} --model {model} --port {port} --callback-url {callback} --cuda-device {gpu}, memory ×2.4 [profile: ${RBEE_HOME}/worker-args.toml backends.cuda.profile; bin: ${RBEE_HOME}/worker-args.toml backends.cuda.bin; args: preset rust-seed; memory_factor: preset rust-seed]"
    When I run "rbee-hive worker spawn cuda --model tiny-llama --port ${PORT} --json"
    Then the command succeeds
    And the JSON at "binary" is "${RUST_SEED}/llm-worker-rbee-cuda"
    And the JSON at "ready_via" is "callback"
    When I run "rbee-hive worker list --json"
    Then the JSON at "0.gpu.listed" is true
    When I run "rbee-keeper infer --worker 127.0.0.1:${PORT} --prompt Hello --max-tokens 8 --temperature 0"
    Then the command succeeds
    And stdout contains "MAX_TOKENS"
    When I run "rbee-hive worker stop worker-cuda-0"
    Then the command succeeds
    And the worker list is empty
    And no worker process is left

  @cp3
  Scenario: The CPU-only main binary configured for cuda is refused before it runs
    Given a fake GPU on this host
    And the worker profiles:
      """
      [backends.cuda]
      bin = "${RUST_SEED}/llm-worker-rbee"
      args = ["--worker-id", "{id}", "--model", "{model}", "--port", "{port}", "--callback-url", "{callback}"]
      """
    When I run "rbee-hive worker spawn cuda --model tiny-llama"
    Then the command fails with exit code 1
    And the error is "BACKEND_BINARY_MISMATCH: ${RUST_SEED}/llm-worker-rbee is not a cuda build: its --help lists no --cuda-device"
    And stderr contains "hint: point bin of [backends.cuda] at llm-worker-rbee-cuda"
    And the worker list is empty
    And no worker process is left

  @cp3
  Scenario: The Go worker's flags are refused for the Rust worker, from its own --help
    Given the worker profiles:
      """
      [backends.cpu]
      profile = "rust-seed"
      bin = "${RUST_SEED}/llm-worker-rbee"
      args = ["--worker-id", "{id}", "--model", "{model}", "--port", "{port}", "--callback-url", "{callback}", "--backend", "{backend}"]
      """
    When I run "rbee-hive worker spawn cpu --model tiny-llama"
    Then the command fails with exit code 1
    And the error is "WORKER_ARGS_INVALID: worker argument template from ${RBEE_HOME}/worker-args.toml backends.cpu.args uses --backend, which `llm-worker-rbee --help` does not list"
    And stderr has a hint
    And no worker process is left

  @cp3
  Scenario: A worker killed right after its ready callback leaves no process and no record
    Given the worker profiles:
      """
      [backends.cpu]
      profile = "rust-seed"
      bin = "${RUST_SEED}/llm-worker-rbee"
      """
    And the Rust worker stand-in dies right after its ready callback
    When I run "rbee-hive worker spawn cpu --model tiny-llama"
    Then the command fails with exit code 1
    And the error is "WORKER_STARTUP_FAILED: worker-cpu-0 exited after its ready callback (signal: killed)"
    And stderr contains "killed right after the ready callback"
    And the worker list is empty
    And no worker process is left

  @cp3
  Scenario: keeper infer prints the Rust worker's own error (Qwen2's cache is never reset)
    Given the tiny model "tiny-qwen2" is registered and downloaded
    And the worker profiles:
      """
      [backends.cpu]
      profile = "rust-seed"
      bin = "${RUST_SEED}/llm-worker-rbee"
      """
    And a free port "PORT"
    When I run "rbee-hive worker spawn cpu --model tiny-qwen2 --port ${PORT}"
    Then the command succeeds
    When I run "rbee-keeper infer --worker 127.0.0.1:${PORT} --prompt 'Hello there' --max-tokens 4 --temperature 0"
    Then the command succeeds
    When I run "rbee-keeper infer --worker 127.0.0.1:${PORT} --prompt 'Hello there' --max-tokens 4 --temperature 0"
    Then the command fails with exit code 1
    And stderr contains "INFERENCE_FAILED: cannot broadcast ["
    When I run "rbee-hive worker stop worker-cpu-0"
    Then the command succeeds
    And no worker process is left

  @cp3
  Scenario Outline: A bad worker profile is refused naming the file and key: <case>
    Given the worker profiles:
      """
      [backends.cpu]
      <line>
      """
    When I run "rbee-hive worker spawn cpu --model tiny-llama"
    Then the command fails with exit code 1
    And the error is "WORKER_ARGS_INVALID: ${RBEE_HOME}/worker-args.toml: backends.cpu.<key>: <message>"
    And stderr has a hint
    And the worker list is empty
    And no worker process is left

    Examples:
      | case                 | line                      | key           | message                                    |
      | unknown preset       | profile = "rust"          | profile       | unknown preset "rust" (presets: go, rust-seed) |
      | missing bin          | bin = "/nonexistent/wkr"  | bin           | stat /nonexistent/wkr: no such file        |
      | env value not string | env = { THREADS = 4 }     | env.THREADS   | value 4 is a int64, not a string           |
      | memory factor zero   | memory_factor = 0         | memory_factor | 0 must be more than 0                      |
