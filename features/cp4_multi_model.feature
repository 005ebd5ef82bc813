@cp4
Feature: CP4 multi-model matrix
  The checkpoint 4 gate: every model runs on every backend of every pool.
  For each pool (in parallel) and each model (one at a time) the matrix
  registers the model, downloads it from the hub, checks the pool can hold
  it, spawns llm-worker-rbee, waits until it is ready, runs the same greedy
  request twice (temperature 0, seed 42: identical output), checks the event
  stream against the protocol rules, stops the worker and checks no process
  is left; then it writes matrix.json and MODEL_SUPPORT.md.
  Here the models are the four tiny random-weight models, served by the
  embedded hub mirror, on two harness pools: this machine, and a private
  OpenSSH pool on loopback reached over SSH exactly like a remote one.

  @cp4.matrix
  Scenario: All four tiny models pass on localhost and on an SSH pool
    Given the matrix pools "localhost:cpu,harness:cpu"
    And the matrix models "tiny"
    When the matrix runs
    Then every model is downloaded on every pool
    And every cell passes
    And no worker is left on any pool
    And the results table shows every model as passed on "localhost/cpu,harness/cpu"
    And the results hold 8 cells with size, load, first-token and tokens/s figures

  Scenario: An unreachable hub fails the run at once, before any cell
    Given the matrix pools "localhost:cpu"
    And the matrix models "seed"
    And the matrix hub "http://127.0.0.1:1"
    When the matrix runs
    Then the matrix fails within 10 seconds with "hub not reachable: http://127.0.0.1:1"
    And no cell ran
