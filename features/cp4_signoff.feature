@cp4
Feature: Checkpoint sign-off report
  `make signoff CP=N` runs checkpoint N's scenarios (and for CP3 and CP4 the
  matrix), then `rbee-keeper signoff report` judges each success criterion of
  the plan from that evidence. These scenarios give the judge evidence files
  and read the report it writes: a criterion nobody could test is NOT RUN,
  never PASS, and the report says at which commit, by whom and how.

  Background:
    Given the scenario directory is a git checkout with an uncommitted change

  Scenario: CP3 on CPU-only pools: everything passes but the GPU criteria, which are NOT RUN
    Given a features report where every scenario of checkpoint 3 passed
    And a matrix result on "localhost:cpu,harness:cpu" where every cell of "qwen-0.5b" passed
    When I run "rbee-keeper signoff report 3 --features features.json --matrix matrix.json --matrix-pools localhost:cpu,harness:cpu"
    Then the command fails with exit code 1
    And stdout contains "NOT RUN  Qwen works on Metal (mac): no pool of the run offered metal (pools: localhost:cpu, harness:cpu)"
    And stdout contains "checkpoint 3: NOT SIGNED OFF"
    And the sign-off report of checkpoint 3 says "NOT RUN" for "cp3.qwen-metal" with "no pool of the run offered metal"
    And the sign-off report of checkpoint 3 says "NOT RUN" for "cp3.qwen-cuda" with "no pool of the run offered cuda"
    And the sign-off report of checkpoint 3 says "PASS" for "cp3.qwen-downloaded"
    And the sign-off report of checkpoint 3 says "PASS" for "cp3.qwen-inference"
    And the sign-off report of checkpoint 3 says "PASS" for "cp3.worker-spawn"
    And the sign-off report of checkpoint 3 says "NOT RUN" for "cp3.fmt" with "evidence commands were not run"
    And the sign-off report of checkpoint 3 names the commit, the dirty tree, the operator, the date and the command line

  Scenario: a failed cell and a failed scenario fail their criteria with their reasons
    Given a features report of checkpoint 3 where the scenarios tagged "@cp3.worker-logs" failed
    And a matrix result on "ws:cuda" where every cell of "qwen-0.5b" failed with "execute: worker error GENERATION_ERROR: cannot broadcast [1, 5] to [1, 8]"
    When I run "rbee-keeper signoff report 3 --features features.json --matrix matrix.json"
    Then the command fails with exit code 1
    And the sign-off report of checkpoint 3 says "FAIL" for "cp3.qwen-cuda" with "ws/cuda/qwen-0.5b fail: execute: worker error GENERATION_ERROR: cannot broadcast"
    And the sign-off report of checkpoint 3 says "FAIL" for "cp3.worker-logs" with "scenario for @cp3.worker-logs"
    And the sign-off report of checkpoint 3 says "PASS" for "cp3.qwen-downloaded"

  Scenario: tiny models never stand in for the real ones
    Given a features report where every scenario of checkpoint 4 passed
    And a matrix result on "localhost:cpu" where every cell of "tiny-qwen2" passed
    When I run "rbee-keeper signoff report 4 --features features.json --matrix matrix.json"
    Then the command fails with exit code 1
    And the sign-off report of checkpoint 4 says "NOT RUN" for "cp4.qwen-downloaded" with "qwen-0.5b was not in the matrix run (models: tiny-qwen2; tiny models never stand in for real ones)"

  Scenario Outline: a checkpoint the plan does not have is a usage error: <cp>
    When I run "rbee-keeper signoff report <cp>"
    Then the command fails with exit code 2
    And stderr contains "<error>"
    And stderr has a hint

    Examples:
      | cp  | error                                                      |
      | 5   | checkpoint 5 does not exist; the plan has checkpoints 1 to 4 |
      | ''  | checkpoint "" is not a number                              |
      | two | checkpoint "two" is not a number                           |

  Scenario: bad matrix pools are a usage error
    When I run "rbee-keeper signoff report 3 --matrix-pools localhost"
    Then the command fails with exit code 2
    And stderr contains "is not DEST:BACKEND"
