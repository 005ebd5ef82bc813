@cp4
Feature: CP4 long runs survive faults
  The real checkpoint-4 run is hours long, over Wi-Fi and SSH to boxes that
  sleep, on disks that fill. Here one harness pool in its own network
  namespace (so its network can be cut) runs the matrix of the four tiny
  models with its home on a small disk, and four faults land during the
  run: the pool's SSH is cut mid-cell, its hive is killed mid-download, a
  worker is killed mid-generation, and the disk fills up mid-download (the
  hub mirror pauses mid-file so each fault lands where it should). After
  the run every cell says truthfully what happened, nothing is left
  running, no file is marked downloaded that is not complete, and a
  -resume rerun completes the matrix, re-running only the cells that had
  not passed and fetching only the bytes that were missing (counted by the
  mirror).

  @cp4.faults
  Scenario: A cut, a killed hive, a killed worker and a full disk; -resume completes the matrix
    Given the fault matrix on pool "harness-ns:cpu" with models "tiny-llama,tiny-qwen2,tiny-phi3,tiny-mistral" and its home on a 64 MiB disk
    And the pool's network is cut for 3 seconds once the worker of "tiny-llama" is up
    And the pool's hive is killed mid-download of "tiny-qwen2"
    And the worker of "tiny-phi3" is killed as its first job starts
    And the pool's disk fills up mid-download of "tiny-mistral"
    When the fault matrix runs
    Then cell "tiny-llama" passed after an SSH redial
    And cell "tiny-qwen2" failed with "download: harness-ns: rbee-hive exited with status 137 (killed by signal 9"
    And cell "tiny-phi3" failed with "execute: run "
    And cell "tiny-mistral" failed with "disk full under "
    And cell "tiny-mistral" failed with "more bytes needed"
    And no worker process or record is left on the pool
    And no model is marked downloaded whose files are not complete
    When the disk has room again and the fault matrix runs with -resume
    Then every fault cell passes
    And -resume re-ran exactly the cells that had not passed
    And the resumed run fetched only the missing bytes
    And no worker process or record is left on the pool
    And no model is marked downloaded whose files are not complete
