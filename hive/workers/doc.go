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
// How a backend's worker is started is its profile (<home>/worker-args.toml,
// DESIGN §5 "Worker profiles"): this module's Go worker for cpu, the
// seed-era Rust worker for metal and cuda by default. Before a spawn the
// binary's --help is read once to refuse a template it cannot take; after
// the ready callback (the Rust worker sends it before it binds) Spawn still
// waits until the process listens and /health answers.
//
// Spawning an id that is already running changes nothing: with the same
// model Spawn reports it (SpawnResult.AlreadyRunning) and succeeds, since the
// operator's intent is met; with a different model it fails with
// WORKER_ALREADY_RUNNING, since silently serving another model would not be.
package workers
