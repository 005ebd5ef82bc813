@cp1
Feature: CP1 remote — rbee-keeper drives pools over real SSH
  The operator controls every pool from one machine. rbee-keeper speaks SSH
  itself (agent and key files, ~/.ssh/config, known_hosts), quotes every
  argument for the remote shell, streams output, reports the remote exit
  code — and says what went wrong and where when it cannot. The pools here
  are real OpenSSH sshd processes on loopback, each with its own host key,
  authorized key and RBEE_HOME.

  @cp1.keeper-ssh @cp1.ssh-reach @cp2.remote-catalog @cp2.catalog-on-pool
  Scenario: status and catalog through SSH are what the pool itself reports
    Given an SSH pool "alpha"
    When I run "rbee-keeper pool models register tinyllama --name TinyLlama --repo TinyLlama/TinyLlama-1.1B-Chat-v1.0 --architecture llama --backends cpu,cuda --host alpha"
    Then the command succeeds
    When I run "rbee-keeper pool models catalog --host alpha --json"
    Then the command succeeds
    And stdout is the same JSON as "rbee-hive models catalog --json" run on pool "alpha" itself
    When I run "rbee-keeper pool status --host alpha --json"
    Then the command succeeds
    And the JSON fields "pool_id,version,home,hostname,os,arch,cpus,models,workers" are the same as from "rbee-hive status --json" run on pool "alpha" itself
    When I run "rbee-keeper pool models catalog --host alpha"
    Then the command succeeds
    And stdout contains "tinyllama"

  @cp1.ssh-reach
  Scenario: preflight over SSH checks the connection, the hive, the worker binary and the host
    Given an SSH pool "alpha"
    When I run "rbee-keeper pool preflight --host alpha"
    Then the command succeeds
    And stdout contains "network round trip"
    And stdout contains "binaries"
    When I run "rbee-keeper pool preflight --host alpha --json"
    Then the command succeeds
    And stdout is JSON with the fields "transport,ssh,hive_version,status,problems,ok"
    And the JSON at "transport" is "ssh"
    And stdout contains ""ok": true"

  @cp1.keeper-ssh
  Scenario: a destination typed as user@host:port works without a pools file entry
    Given an SSH pool "alpha"
    When I run "rbee-keeper pool models list --host ${ALPHA_DEST} --json"
    Then the command succeeds
    And stdout is an empty JSON list

  @cp2.ssh-stable
  Scenario: fan-out to two pools runs both and prefixes every line
    Given an SSH pool "alpha"
    And an SSH pool "beta"
    When I run "rbee-keeper pool status --host alpha,beta --json"
    Then the command succeeds
    And stdout is a JSON list of 2 hosts all with exit code 0
    When I run "rbee-keeper pool models catalog --host alpha,beta"
    Then the command succeeds
    And every stdout line starts with one of "[alpha] ,[beta] "

  @cp2.ssh-stable
  Scenario: one failing pool of a fan-out fails the command but not the others
    Given an SSH pool "alpha"
    And an SSH pool "bare" without rbee-hive
    When I run "rbee-keeper pool status --host alpha,bare --json"
    Then the command fails with exit code 127
    And the JSON at "0.exit_code" is 0
    And the JSON at "1.exit_code" is 127

  @cp2.remote-register @cp2.catalog-on-pool
  Scenario: an argument full of shell syntax reaches the hive literally
    Given an SSH pool "alpha"
    When I run "rbee-keeper pool models register evil --name HOSTILE --repo org/evil --architecture llama --host alpha" with HOSTILE replaced by a shell-injection argument
    Then the command succeeds
    And no injected command ran
    And the catalog of pool "alpha" names "evil" with the shell-injection argument

  Scenario: the remote exit code and error come through
    Given an SSH pool "alpha"
    When I run "rbee-keeper pool models unregister nosuchmodel --host alpha"
    Then the command fails with exit code 1
    And stderr contains "nosuchmodel"

  Scenario: rbee-hive missing on the pool is exit 127 with an install hint
    Given an SSH pool "bare" without rbee-hive
    When I run "rbee-keeper pool status --host bare"
    Then the command fails with exit code 127
    And the error is "rbee-hive not found on bare"
    And stderr has a hint

  Scenario: an unreachable pool times out within the limit, naming the host
    Given a pool "dead" that accepts connections but never answers
    When I time the run of "rbee-keeper pool status --host dead --connect-timeout 2s"
    Then the command fails with exit code 255
    And the error is "connection to dead"
    And stderr contains "timed out after 2s"
    And stderr has a hint
    And it took less than 6 seconds

  Scenario: a key the pool does not accept is an authentication error
    Given an SSH pool "alpha"
    And the operator's key is not authorized on pool "alpha"
    When I run "rbee-keeper pool status --host alpha"
    Then the command fails with exit code 255
    And the error is "authentication failed for"
    And stderr contains "operator_key"
    And stderr has a hint

  Scenario: a changed host key is always refused
    Given an SSH pool "alpha"
    And the host key of pool "alpha" changed
    When I run "rbee-keeper pool status --host alpha --accept-new-host-key"
    Then the command fails with exit code 255
    And the error is "host key changed for alpha"
    And stderr contains "known_hosts:"
    And stderr has a hint

  Scenario: an unknown host is refused until its key is accepted, then recorded
    Given an SSH pool "alpha"
    And the host key of pool "alpha" is not known
    When I run "rbee-keeper pool status --host alpha"
    Then the command fails with exit code 255
    And the error is "unknown host key for alpha"
    And stderr contains "SHA256:"
    And stderr contains "--accept-new-host-key"
    When I run "rbee-keeper pool status --host alpha --accept-new-host-key --json"
    Then the command succeeds
    And the pool's known_hosts now holds the key of "alpha"
    When I run "rbee-keeper pool status --host alpha --json"
    Then the command succeeds

  @cp3.remote-spawn
  Scenario: a worker spawned, listed and stopped through SSH
    Given an SSH pool "alpha"
    And the tiny model "tiny-llama" is registered and downloaded on pool "alpha"
    When I run "rbee-keeper pool worker spawn cpu --model tiny-llama --host alpha --json"
    Then the command succeeds
    And the JSON at "id" is "worker-cpu-0"
    When I run "rbee-keeper pool worker list --host alpha --json"
    Then the command succeeds
    And the JSON at "0.id" is "worker-cpu-0"
    And the JSON at "0.state" is "ready"
    When I run "rbee-keeper pool worker stop worker-cpu-0 --host alpha"
    Then the command succeeds
    And pool "alpha" has no worker left

  @cp3.remote-download
  Scenario: a download through SSH from the hub mirror
    Given a hub mirror serving "rbee-testing/small" with a 2 MiB weights file
    And an SSH pool "alpha"
    When I run "rbee-keeper pool models register small --name Small --repo rbee-testing/small --architecture llama --host alpha"
    Then the command succeeds
    When I run "rbee-keeper pool models download small --host alpha"
    Then the command succeeds
    When I run "rbee-keeper pool models list --host alpha --json"
    Then the command succeeds
    And the JSON at "0.id" is "small"
    And stdout is the same JSON as "rbee-hive models list --json" run on pool "alpha" itself

  @cp2.ssh-stable
  Scenario: a pool cut off the network mid-command is reported lost
    Given a worker binary that never becomes ready
    And the operator's SSH config sets ServerAliveInterval 1 and ServerAliveCountMax 2
    And an SSH pool "island" in its own network namespace
    And the tiny model "tiny-llama" is registered and downloaded on pool "island"
    When I start "rbee-keeper pool worker spawn cpu --model tiny-llama --wait 20s --host island" in the background
    And the network of pool "island" is cut
    Then the background command ends within 15 seconds with exit code 255
    And stderr contains "connection to island"
    And stderr contains "lost"

  Scenario: infer reaches a worker on the pool's own loopback through SSH
    Given an SSH pool "island" in its own network namespace
    And the tiny model "tiny-llama" is registered and downloaded on pool "island"
    And a free port "PORT"
    When I run "rbee-keeper pool worker spawn cpu --model tiny-llama --port ${PORT} --host island --json"
    Then the command succeeds
    And the JSON at "uri" is "http://127.0.0.1:${PORT}"
    When I run "rbee-keeper infer --worker 127.0.0.1:${PORT} --prompt Hello --max-tokens 4 --temperature 0"
    Then the command fails with exit code 1
    And stderr contains "cannot reach the worker"
    When I run "rbee-keeper infer --host island --worker 127.0.0.1:${PORT} --prompt Hello --max-tokens 4 --temperature 0 --seed 42"
    Then the command succeeds
    And stdout contains "4 tokens"
    When I run "rbee-keeper pool worker stop worker-cpu-0 --host island"
    Then the command succeeds
    And pool "island" has no worker left
    When I run "rbee-keeper infer --host island --worker 127.0.0.1:${PORT} --prompt Hello --max-tokens 4"
    Then the command fails with exit code 1
    And stderr contains "island"
    And stderr contains "could not connect to 127.0.0.1:${PORT}"
