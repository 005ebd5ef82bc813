@cp1
Feature: CP1 foundation — both CLIs answer help, version and status
  An operator installs rbee-hive on a pool and rbee-keeper on their own machine.
  Both programs say what they are, explain every command with an example, and
  report the pool: host, OS/arch, CPUs, RAM, disk, backends, models, workers.

  @cp1.version
  Scenario Outline: both CLIs print their version
    When I run "<cli> --version"
    Then the command succeeds
    And stdout contains "<cli> 0.1.0"
    And stderr is empty

    Examples:
      | cli         |
      | rbee-hive   |
      | rbee-keeper |

  @cp1.hive-help @cp1.help-examples
  Scenario Outline: every rbee-hive command explains itself with an example
    When I run "rbee-hive <command> --help"
    Then the command succeeds
    And stdout contains "Usage:"
    And stdout contains "rbee-hive <command>"
    And stdout contains "--home"
    And stdout contains "Example:"

    Examples:
      | command           |
      | status            |
      | models register   |
      | models unregister |
      | models catalog    |
      | models list       |
      | models download   |
      | worker spawn      |
      | worker list       |
      | worker stop       |
      | worker logs       |
      | hub serve         |

  @cp1.keeper-help @cp1.help-examples
  Scenario Outline: every rbee-keeper command explains itself with an example
    When I run "rbee-keeper <command> --help"
    Then the command succeeds
    And stdout contains "Usage:"
    And stdout contains "rbee-keeper <command>"
    And stdout contains "Example:"

    Examples:
      | command                  |
      | pool status              |
      | pool models catalog      |
      | pool models list         |
      | pool models register     |
      | pool models unregister   |
      | pool models download     |
      | pool worker spawn        |
      | pool worker list         |
      | pool worker stop         |
      | pool worker logs         |
      | pool git pull            |
      | pool git status          |
      | pool git build           |
      | pool preflight           |
      | infer                    |
      | signoff plan             |
      | signoff report           |

  @cp1.hive-help @cp1.keeper-help
  Scenario: the top-level help lists the commands of both CLIs
    When I run "rbee-hive --help"
    Then the command succeeds
    And stdout contains "models register"
    And stdout contains "worker spawn"
    When I run "rbee-keeper --help"
    Then the command succeeds
    And stdout contains "pool models"
    And stdout contains "infer"

  @cp1.hive-status
  Scenario: rbee-hive status reports the pool as JSON
    Given a fresh rbee home
    When I run "rbee-hive status --json"
    Then the command succeeds
    And stdout is JSON with the fields "pool_id, hostname, os, arch, cpus, ram_total_bytes, ram_available_bytes, disk_free_bytes, backends, models, workers"
    And the JSON at "backends" contains "cpu"
    And the JSON at "models.registered" is 0
    And the JSON at "workers" is 0
    And the JSON at "home" is "${RBEE_HOME}"
    And stderr is empty

  @cp1.hive-status
  Scenario: rbee-hive status as text for people, with --home taking precedence over RBEE_HOME
    When I run "rbee-hive --home ${SCENARIO_DIR}/other status --no-color"
    Then the command succeeds
    And stdout contains "backends"
    And stdout contains "${SCENARIO_DIR}/other"
    And stdout has no color codes

  Scenario: rbee-keeper reports the local pool over the localhost transport
    Given I run "rbee-hive models register tinyllama --name 'TinyLlama 1.1B Chat' --repo TinyLlama/TinyLlama-1.1B-Chat-v1.0 --architecture llama"
    When I run "rbee-keeper pool status --host localhost --json"
    Then the command succeeds
    And stdout is JSON with the fields "pool_id, hostname, os, arch, cpus, backends, models, workers"
    And the JSON at "models.registered" is 1
    When I run "rbee-keeper pool status --host localhost"
    Then the command succeeds
    And stdout contains "1 registered, 0 downloaded"

  Scenario: preflight checks the local pool: hive version, worker binaries, RAM, disk, GPUs
    When I run "rbee-keeper pool preflight --host localhost"
    Then the command succeeds
    And stdout contains "rbee-hive  0.1.0"
    And stdout contains "binaries"
    And stdout contains "preflight  ok"
    When I run "rbee-keeper pool preflight --host localhost --json"
    Then the command succeeds
    And the JSON at "ok" is true
    And the JSON at "transport" is "local"
    And the JSON at "status.backends" contains "cpu"

  Scenario: several hosts at once: [host] prefixes in text, one array in JSON
    When I run "rbee-keeper pool status --host localhost,localhost --json"
    Then the command succeeds
    And the JSON at "0.host" is "localhost"
    And the JSON at "0.exit_code" is 0
    And the JSON at "1.output.workers" is 0
    When I run "rbee-keeper pool status --host localhost,localhost"
    Then the command succeeds
    And stdout contains "[localhost] backends"

  Scenario: a pool from the pools file runs the hive with the pool's home ("~/" is the pool user's home)
    Given a pools file:
      """
      [[pool]]
      name = "bench"
      host = "localhost"
      home = "~/bench-home"
      backends = ["cpu"]
      """
    When I run "rbee-keeper pool models register qwen-0.5b --name 'Qwen2.5 0.5B Instruct' --repo Qwen/Qwen2.5-0.5B-Instruct --architecture qwen --host bench"
    Then the command succeeds
    When I run "rbee-keeper pool status --host bench --json"
    Then the command succeeds
    And the JSON at "home" is "${HOME}/bench-home"
    And the JSON at "models.registered" is 1

  Scenario: a broken pools file is named in the error
    Given a pools file:
      """
      [[pool]]
      name = "bench"
      hots = "typo"
      """
    When I run "rbee-keeper pool status --host bench"
    Then the command fails with exit code 1
    And the error is "pools.toml: unknown key(s) pool.hots"
    And stderr has a hint

  Scenario Outline: command line mistakes are usage errors (exit 2) with a hint
    When I run "<command>"
    Then the command fails with exit code 2
    And the error is "<error>"
    And stderr has a hint

    Examples:
      | command                                   | error                       |
      | rbee-hive frobnicate                      | unknown command "frobnicate" |
      | rbee-hive models register                 | missing argument            |
      | rbee-hive models register x --repo o/n --architecture llama | --name is required |
      | rbee-hive status --bogus                  | unknown flag: --bogus       |
      | rbee-keeper pool status                   | --host is required          |
      | rbee-keeper launch                        | unknown command "launch"    |

  Scenario: pool git runs in the pool's repo from the pools file
    Given I run "git init -q -b main ${SCENARIO_DIR}/repo"
    And a pools file:
      """
      [[pool]]
      name = "workstation"
      host = "localhost"
      repo = "${SCENARIO_DIR}/repo"
      """
    When I run "rbee-keeper pool git status --host workstation"
    Then the command succeeds
    And stdout contains "On branch main"
    When I run "rbee-keeper pool git status --host localhost"
    Then the command fails with exit code 1
    And the error is "no repo for this pool in the pools file"
    And stderr has a hint

  Scenario: infer against a worker that is not there fails clearly
    When I run "rbee-keeper infer --worker 127.0.0.1:1 --prompt Hello --max-tokens 4"
    Then the command fails with exit code 1
    And the error is "cannot reach the worker at http://127.0.0.1:1"
    And stderr has a hint
