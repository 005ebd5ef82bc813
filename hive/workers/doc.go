// Package workers runs llm-worker-rbee processes on this pool: spawn with
// preflight checks and a real readiness signal, list with liveness that a
// reused pid cannot fool, stop with SIGTERM then SIGKILL, and logs
// (DESIGN §3 "Worker spawn", §5).
//
// State lives in files under the home, so separate rbee-hive invocations
// share it: workers/<id>.json is a worker's record and workers/<id>.log its
// output. A worker runs in its own session and outlives the command that
// spawned it.
//
// Spawning an id that is already running changes nothing: with the same
// model Spawn reports it (SpawnResult.AlreadyRunning) and succeeds, since the
// operator's intent is met; with a different model it fails with
// WORKER_ALREADY_RUNNING, since silently serving another model would not be.
package workers
