@cp2
Feature: CP2 model catalog — register, unregister, persist, and refuse bad input
  The catalog (models/catalog.json under the rbee home) follows the published
  JSON Schema. It is written atomically under a lock, keeps the previous
  version as catalog.json.bak, and a bad request never loses anything.

  Background:
    Given a fresh rbee home

  @cp2.catalog-register @cp2.catalog-persist @cp2.catalog-schema @cp2.catalog-show
  Scenario: the catalog is created on first register, then loaded and saved
    When I run "rbee-hive models catalog --json"
    Then the command succeeds
    And the JSON at "version" is "1.0"
    And the JSON at "models" is an empty list
    And the catalog file does not exist
    When I run "rbee-hive models register tinyllama --name 'TinyLlama 1.1B Chat' --repo TinyLlama/TinyLlama-1.1B-Chat-v1.0 --architecture llama --backends cpu,metal"
    Then the command succeeds
    And stdout contains "registered tinyllama"
    And the catalog file is valid against the published schema
    And the catalog entry "tinyllama" has backends "cpu,metal" and is not downloaded
    When I run "rbee-hive models catalog"
    Then the command succeeds
    And stdout contains "TinyLlama/TinyLlama-1.1B-Chat-v1.0"

  @cp2.seed-registered @cp2.catalog-persist
  Scenario: the four seed models are registered and persist across runs
    When I register the models:
      | id        | name                    | repo                               | architecture |
      | tinyllama | TinyLlama 1.1B Chat     | TinyLlama/TinyLlama-1.1B-Chat-v1.0 | llama        |
      | qwen-0.5b | Qwen2.5 0.5B Instruct   | Qwen/Qwen2.5-0.5B-Instruct         | qwen         |
      | phi3      | Phi-3 Mini 4K Instruct  | microsoft/Phi-3-mini-4k-instruct   | phi          |
      | mistral   | Mistral 7B Instruct v0.2 | mistralai/Mistral-7B-Instruct-v0.2 | mistral     |
    Then the catalog lists exactly "tinyllama, qwen-0.5b, phi3, mistral"
    And the catalog entry "tinyllama" has repo "TinyLlama/TinyLlama-1.1B-Chat-v1.0" and architecture "llama"
    And the catalog entry "qwen-0.5b" has repo "Qwen/Qwen2.5-0.5B-Instruct" and architecture "qwen"
    And the catalog entry "phi3" has repo "microsoft/Phi-3-mini-4k-instruct" and architecture "phi"
    And the catalog entry "mistral" has repo "mistralai/Mistral-7B-Instruct-v0.2" and architecture "mistral"
    And the catalog entry "mistral" has backends "cpu,metal,cuda" and is not downloaded
    And the catalog backup lists exactly "tinyllama, qwen-0.5b, phi3"
    When I run "rbee-hive status --json"
    Then the JSON at "models.registered" is 4
    And the JSON at "models.downloaded" is 0
    When I run "rbee-hive models list --json"
    Then the command succeeds
    And stdout is an empty JSON list

  @cp2.catalog-unregister
  Scenario: unregister removes the entry, keeps the previous catalog, and --delete-files removes the files
    Given I register the models:
      | id        | name                  | repo                             | architecture |
      | qwen-0.5b | Qwen2.5 0.5B Instruct | Qwen/Qwen2.5-0.5B-Instruct       | qwen         |
      | phi3      | Phi-3 Mini 4K         | microsoft/Phi-3-mini-4k-instruct | phi          |
    And the model "phi3" has files on disk
    And the model "qwen-0.5b" has files on disk
    When I run "rbee-hive models unregister phi3 --delete-files"
    Then the command succeeds
    And the catalog lists exactly "qwen-0.5b"
    And the catalog backup lists exactly "qwen-0.5b, phi3"
    And the model "phi3" has no files on disk
    When I run "rbee-hive models unregister qwen-0.5b"
    Then the command succeeds
    And the catalog lists exactly ""
    And the catalog file is valid against the published schema
    And the model "qwen-0.5b" has files on disk

  @cp2.catalog-show
  Scenario: the keeper's catalog of localhost is the local catalog
    Given I register the models:
      | id        | name                  | repo                       | architecture |
      | tinyllama | TinyLlama 1.1B Chat   | TinyLlama/TinyLlama-1.1B-Chat-v1.0 | llama |
      | qwen-0.5b | Qwen2.5 0.5B Instruct | Qwen/Qwen2.5-0.5B-Instruct | qwen         |
    Then the keeper's catalog of "localhost" is identical to the local catalog
    When I run "rbee-keeper pool models catalog --host localhost"
    Then the command succeeds
    And stdout contains "qwen-0.5b"
    And stdout contains "Qwen/Qwen2.5-0.5B-Instruct"
    When I run "rbee-keeper pool models unregister tinyllama --host localhost"
    Then the command succeeds
    And the catalog lists exactly "qwen-0.5b"

  Scenario Outline: an invalid model id is refused and nothing is written
    Given I run "rbee-hive models register keep --name Keep --repo org/keep --architecture llama"
    And I keep a copy of the catalog file
    When I run "rbee-hive models register <id> --name X --repo org/x --architecture llama"
    Then the command fails with exit code 1
    And the error is "invalid model id"
    And stderr has a hint
    And the catalog file is unchanged
    And nothing was created outside the home

    Examples:
      | id                                                                  |
      | ../x                                                                |
      | 'A B'                                                               |
      | 'a;b'                                                               |
      | ''                                                                  |
      | aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   |

  Scenario: a 64-character id is the longest accepted
    When I run "rbee-hive models register aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa --name Long --repo org/long --architecture llama"
    Then the command succeeds

  Scenario Outline: bad register and unregister requests fail clearly and change nothing
    Given I run "rbee-hive models register tinyllama --name TinyLlama --repo TinyLlama/TinyLlama-1.1B-Chat-v1.0 --architecture llama"
    And I keep a copy of the catalog file
    When I run "<command>"
    Then the command fails with exit code 1
    And the error is "<error>"
    And stderr has a hint
    And the catalog file is unchanged

    Examples:
      | command                                                                                      | error                                |
      | rbee-hive models register q --name Q --repo org/q --architecture qwen --backends cpu,rocm    | unknown backend "rocm"               |
      | rbee-hive models register q --name Q --repo not-a-repo --architecture qwen                   | invalid repo "not-a-repo"            |
      | rbee-hive models register q --name Q --repo org/q/extra --architecture qwen                  | invalid repo "org/q/extra"           |
      | rbee-hive models register tinyllama --name Again --repo TinyLlama/TinyLlama-1.1B-Chat-v1.0 --architecture llama | model "tinyllama" is already registered |
      | rbee-hive models unregister nope                                                             | model "nope" is not in the catalog   |
      | rbee-keeper pool models register tinyllama --name Again --repo o/n --architecture llama --host localhost | model "tinyllama" is already registered |

  @cp2.catalog-persist
  Scenario Outline: a catalog file holding garbage is never overwritten
    Given the catalog file holds garbage
    And I keep a copy of the catalog file
    When I run "<command>"
    Then the command fails with exit code 1
    And the error is "${RBEE_HOME}/models/catalog.json is not valid"
    And stderr has a hint
    And the catalog file is unchanged

    Examples:
      | command                                                                       |
      | rbee-hive models register q --name Q --repo org/q --architecture qwen        |
      | rbee-hive models unregister q                                                 |
      | rbee-hive models catalog                                                      |
      | rbee-hive models list --json                                                  |
      | rbee-keeper pool models catalog --host localhost                              |

  Scenario: status still answers with a broken catalog, and says what is wrong
    Given the catalog file holds garbage
    When I run "rbee-hive status"
    Then the command succeeds
    And stdout contains "warning"
    And stdout contains "catalog.json is not valid"

  Scenario: a read-only home is refused with a clear error and nothing changes
    Given I run "rbee-hive models register tinyllama --name TinyLlama --repo TinyLlama/TinyLlama-1.1B-Chat-v1.0 --architecture llama"
    And I keep a copy of the catalog file
    And the rbee home is read-only
    When I run "rbee-hive models register qwen-0.5b --name Qwen --repo Qwen/Qwen2.5-0.5B-Instruct --architecture qwen"
    Then the command fails with exit code 1
    And the error is "cannot write the catalog in ${RBEE_HOME}/models: permission denied"
    And stderr has a hint
    And the catalog file is unchanged
    When I run "rbee-hive models catalog --json"
    Then the command succeeds
    And the JSON at "models.0.id" is "tinyllama"

  Scenario: a home that cannot be created is refused with a clear error
    Given the rbee home is below a regular file
    When I run "rbee-hive models register qwen-0.5b --name Qwen --repo Qwen/Qwen2.5-0.5B-Instruct --architecture qwen"
    Then the command fails with exit code 1
    And the error is "cannot write the catalog"
    And stderr has a hint

  Scenario: 20 parallel register processes leave exactly 20 entries
    When 20 rbee-hive processes register one model each at the same time
    Then the catalog holds the 20 models "par-01" to "par-20"

  @cp2.catalog-color @cp2.catalog-show
  Scenario: the catalog is a colored table on a terminal, plain text in a pipe and with NO_COLOR
    When I run "rbee-hive models register tinyllama --name 'TinyLlama 1.1B Chat' --repo TinyLlama/TinyLlama-1.1B-Chat-v1.0 --architecture llama"
    Then the command succeeds
    When I run "rbee-hive models catalog" on a terminal
    Then the command succeeds
    And stdout has color codes
    And stdout contains "TinyLlama 1.1B Chat"
    When I run "rbee-hive models catalog"
    Then the command succeeds
    And stdout has no color codes
    And stdout contains "TinyLlama 1.1B Chat"
    When I run "rbee-hive models catalog --no-color" on a terminal
    Then stdout has no color codes
    Given the environment variable "NO_COLOR" is "1"
    When I run "rbee-hive models catalog" on a terminal
    Then stdout has no color codes
