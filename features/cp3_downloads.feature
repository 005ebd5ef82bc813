@cp3
Feature: CP3 model downloads from a Hugging Face compatible hub
  A pool fetches a registered model's files over the Hub's HTTP protocol from
  HF_ENDPOINT (here a mirror on loopback), resumes where a transfer stopped,
  verifies every file, retries what a flaky network breaks, and marks the model
  downloaded in the catalog only when every file is verified.

  Background:
    Given a hub mirror serving "rbee-testing/tiny" with a 8 MiB weights file
    And I run "rbee-hive models register tiny --name 'Tiny test model' --repo rbee-testing/tiny --architecture llama --backends cpu"
    And the command succeeds

  @cp3.download @cp3.download-catalog @cp3.download-verify
  Scenario: a download shows progress, verifies every file and updates the catalog
    Given the hub mirror stalls "model.safetensors" for 2.5 seconds after 1024 KiB once
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stdout contains "downloaded tiny: 3 files, 8.0 MiB"
    And stderr contains "fetching model.safetensors (8.0 MiB)"
    And stderr contains "progress: 1.0 MiB / 8.0 MiB"
    And stderr contains "verified model.safetensors (8.0 MiB, sha256 "
    And stderr contains "verified config.json"
    And the files of "tiny" match the hub
    And "models/tiny/README.md" does not exist under the home
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  @cp3.download @cp3.download-verify
  Scenario Outline: a generated tiny model repo downloads with all its files
    Given the hub mirror also serves the tiny model "<model>"
    And I run "rbee-hive models register <model> --name '<model>' --repo rbee-testing/<model> --architecture <arch> --backends cpu"
    When I run "rbee-hive models download <model>"
    Then the command succeeds
    And stdout contains "downloaded <model>: "
    And the files of "<model>" match the hub
    And the catalog marks "<model>" downloaded with its files, sizes, sha256 and commit

    Examples:
      | model        | arch    |
      | tiny-llama   | llama   |
      | tiny-qwen2   | qwen    |
      | tiny-phi3    | phi     |
      | tiny-mistral | mistral |

  Scenario: a connection cut in the middle resumes from the bytes already received
    Given the hub mirror cuts the connection for "model.safetensors" at 50% once
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stderr contains "retrying model.safetensors"
    And stderr contains "resuming model.safetensors at 4.0 MiB of 8.0 MiB"
    And the files of "tiny" match the hub
    And the hub mirror sent less than 1.01 times the size of "model.safetensors"
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  Scenario: an interrupted download keeps its bytes, leaves the catalog alone, and a rerun continues
    Given the hub mirror stalls "model.safetensors" after 4096 KiB until the scenario ends
    When I start the download "rbee-hive models download tiny" in the background
    And "models/tiny/model.safetensors.incomplete" under the home grows to 50% of "model.safetensors"
    And I interrupt the background command
    Then the command fails with exit code 1
    And stderr contains "error: download of tiny interrupted"
    And stderr contains "hint: run the same command again: it continues from the bytes already on disk"
    And the catalog does not mark "tiny" downloaded
    And "models/tiny/model.safetensors.incomplete" under the home holds 50% of "model.safetensors"
    Given the hub mirror behaves again
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stderr contains "resuming model.safetensors at 4.0 MiB of 8.0 MiB"
    And the files of "tiny" match the hub
    And the hub mirror sent less than 1.01 times the size of "model.safetensors"
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  Scenario: a server that ignores Range makes the download start the file over
    Given the hub mirror cuts the connection for "model.safetensors" at 50% once
    And the hub mirror ignores Range requests for "model.safetensors"
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stderr contains "retrying model.safetensors"
    And the files of "tiny" match the hub
    And the hub mirror sent at least 1.5 times the size of "model.safetensors"
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  @cp3.download-verify
  Scenario: a corrupted transfer is detected, thrown away and fetched again
    Given the hub mirror corrupts byte 5000000 of "model.safetensors" once
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stderr contains "checksum mismatch"
    And stderr contains "retrying model.safetensors"
    And the files of "tiny" match the hub
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  Scenario: a stalled transfer is abandoned after HF_HUB_DOWNLOAD_TIMEOUT and retried
    Given the environment variable "HF_HUB_DOWNLOAD_TIMEOUT" is "1"
    And the hub mirror stalls "model.safetensors" for 60 seconds after 2048 KiB once
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stderr contains "no data for 1s"
    And stderr contains "resuming model.safetensors at 2.0 MiB of 8.0 MiB"
    And the files of "tiny" match the hub

  Scenario: server errors are retried with backoff
    Given the hub mirror answers 503 to the first 2 requests
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stderr contains "HTTP 503"
    And stderr contains "(try 3 of 6)"
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  Scenario: a repo the hub does not have is named in the error
    Given I run "rbee-hive models register ghost --name Ghost --repo rbee-testing/ghost --architecture llama"
    When I run "rbee-hive models download ghost"
    Then the command fails with exit code 1
    And the error is "model repo rbee-testing/ghost not found on the hub (${HF_ENDPOINT})"
    And stderr has a hint
    And the catalog does not mark "ghost" downloaded

  Scenario: a revision the hub does not have is named in the error
    When I run "rbee-hive models download tiny --revision v9.9"
    Then the command fails with exit code 1
    And the error is "revision "v9.9" of rbee-testing/tiny not found on the hub"
    And stderr contains "hint: check --revision"

  Scenario: a private hub refuses a missing or wrong token and accepts the right one
    Given the hub mirror requires the token "hf_sekrit"
    When I run "rbee-hive models download tiny"
    Then the command fails with exit code 1
    And the error is "access denied to rbee-testing/tiny on the hub"
    And stderr contains "hint: set HF_TOKEN"
    And the catalog does not mark "tiny" downloaded
    Given the environment variable "HF_TOKEN" is "hf_wrong"
    When I run "rbee-hive models download tiny"
    Then the command fails with exit code 1
    And the error is "Invalid credentials in Authorization header"
    And stderr contains "hint: the token from HF_TOKEN was refused"
    Given the environment variable "HF_TOKEN" is "hf_sekrit"
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  Scenario: the token file under HF_HOME is used when HF_TOKEN is unset
    Given the hub mirror requires the token "hf_from_file"
    And a Hugging Face token file containing "hf_from_file"
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And the files of "tiny" match the hub

  Scenario: a model larger than the free disk space is refused before anything is fetched
    Given the hub mirror also serves "rbee-testing/huge" with a 1 PiB weights file it has only a git-lfs pointer for
    And I run "rbee-hive models register huge --name Huge --repo rbee-testing/huge --architecture llama"
    When I run "rbee-hive models download huge"
    Then the command fails with exit code 1
    And the error is "not enough disk space for rbee-testing/huge"
    And stderr contains "need 1.0 PiB more"
    And stderr has a hint
    And the hub mirror sent no file bytes
    And "models/huge/model.safetensors.incomplete" does not exist under the home
    And the catalog does not mark "huge" downloaded

  Scenario: downloading a downloaded model is a fast no-op that says so
    Given I run "rbee-hive models download tiny"
    And the command succeeds
    And the hub mirror's byte counters are reset
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stdout contains "tiny is already downloaded: 3 files, 8.0 MiB"
    And the hub mirror sent no file bytes
    When I run "rbee-hive models download tiny --json"
    Then the command succeeds
    And the download JSON says already_downloaded is true
    And the JSON at "fetched_bytes" is 0
    And the JSON at "id" is "tiny"

  Scenario: "rbee-hive hub serve" is a mirror other pools download from
    Given "rbee-hive hub serve" serves the hub folder with the token "lan-secret"
    And the environment variable "HF_TOKEN" is "lan-secret"
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stdout contains "downloaded tiny: 3 files, 8.0 MiB"
    And the files of "tiny" match the hub
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  @cp3.remote-download
  Scenario: the keeper downloads on a pool through its localhost transport
    When I run "rbee-keeper pool models download tiny --host localhost"
    Then the command succeeds
    And stdout contains "downloaded tiny: 3 files, 8.0 MiB"
    And the files of "tiny" match the hub
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  @cp3
  Scenario: a gated repo names the terms to accept, and downloads once the token's account accepted them
    Given the hub mirror gates "rbee-testing/tiny"
    When I run "rbee-hive models download tiny"
    Then the command fails with exit code 1
    And the error is "rbee-testing/tiny is a gated repo: the hub (${HF_ENDPOINT}) needs a token of an account that accepted its terms (HTTP 401)"
    And stderr contains "hint: accept the terms at ${HF_ENDPOINT}/rbee-testing/tiny, then set HF_TOKEN"
    And the hub mirror sent no file bytes
    And no ".incomplete" file exists under the home
    And the catalog does not mark "tiny" downloaded
    Given the environment variable "HF_TOKEN" is "hf_operator"
    When I run "rbee-hive models download tiny"
    Then the command fails with exit code 1
    And the error is "rbee-testing/tiny is a gated repo and the token from HF_TOKEN is not on its authorized list (HTTP 403"
    And stderr contains "hint: accept the terms at ${HF_ENDPOINT}/rbee-testing/tiny with the account of that token"
    And no ".incomplete" file exists under the home
    Given the account of the token "hf_operator" accepts the terms of "rbee-testing/tiny"
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And the files of "tiny" match the hub
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  @cp3
  Scenario: a rate-limited download waits as the hub announces, without using up its tries
    Given the hub mirror rate-limits the first 3 requests for 1 second each
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stderr contains "rate limited by the hub (HTTP 429, RateLimit t=1): waiting 1s before the next hub request (not counted as a try)"
    And the files of "tiny" match the hub
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  @cp3
  Scenario: a rate limit that outlasts the wait budget is named, with the HF_TOKEN way out
    Given the environment variable "RBEE_HUB_RATE_LIMIT_BUDGET" is "2s"
    And the hub mirror rate-limits every request for 1 second each
    When I run "rbee-hive models download tiny"
    Then the command fails with exit code 1
    And stderr contains "error: the hub (${HF_ENDPOINT}) rate-limited the download of rbee-testing/tiny: gave up after waiting 2s in total"
    And stderr contains "hint: anonymous downloads have the smallest quota: set HF_TOKEN"
    And the catalog does not mark "tiny" downloaded

  @cp3
  Scenario: LFS files come from a CDN on another host that refuses the token and expires its URLs
    Given the hub mirror requires the token "hf_sekrit"
    And the hub mirror serves LFS files from a CDN on another host
    And the CDN's presigned URLs for "model.safetensors" expire 2 times
    And the environment variable "HF_TOKEN" is "hf_sekrit"
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And stderr contains "HTTP 403 from the CDN 127.0.0.2:"
    And stderr contains "Request has expired"
    And no message shows a presigned signature
    And the files of "tiny" match the hub
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  @cp3
  Scenario: a CDN that keeps refusing is reported as the CDN's refusal, not the token's
    Given the hub mirror serves LFS files from a CDN on another host
    And the CDN's presigned URLs for "model.safetensors" always expire
    When I run "rbee-hive models download tiny"
    Then the command fails with exit code 1
    And stderr contains "error: the hub's CDN 127.0.0.2:"
    And stderr contains "refused model.safetensors of rbee-testing/tiny"
    And stderr contains "hint: the hub (${HF_ENDPOINT}) redirected the download to 127.0.0.2:"
    And stderr contains "this is not a token problem"
    And no message shows a presigned signature
    And the catalog does not mark "tiny" downloaded

  @cp3
  Scenario: "rbee-hive hub serve" rehearses the Hub's CDN and relative redirects
    Given "rbee-hive hub serve" serves the hub folder with the token "lan-secret" and the flags "--cdn 127.0.0.2:0 --resolve-cache --xet"
    And the environment variable "HF_TOKEN" is "lan-secret"
    When I run "rbee-hive models download tiny"
    Then the command succeeds
    And the files of "tiny" match the hub
    And the catalog marks "tiny" downloaded with its files, sizes, sha256 and commit

  @cp3
  Scenario: a Mistral-like repo with its weights three times over downloads only the HF shards
    Given the hub mirror also serves the Mistral-like repo "rbee-testing/mistral-like"
    And I run "rbee-hive models register mistral --name 'Mistral-like' --repo rbee-testing/mistral-like --architecture mistral --backends cpu"
    When I run "rbee-hive models download mistral"
    Then the command succeeds
    And stdout contains "downloaded mistral: 7 files, 3.0 MiB"
    And the hub mirror sent no bytes of "consolidated.safetensors"
    And the hub mirror sent no bytes of "params.json"
    And the hub mirror sent no bytes of "pytorch_model-00001-of-00001.bin"
    And the hub mirror sent no bytes of "original/consolidated.00.pth"
    And the files of "mistral" match the hub
    And the catalog marks "mistral" downloaded with its files, sizes, sha256 and commit
