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
