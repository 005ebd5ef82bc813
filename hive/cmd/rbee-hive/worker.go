package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/rbee-go/rbee/hive/workers"
)

func (a *app) workers() *workers.Manager {
	return &workers.Manager{Home: a.home, Catalog: workers.StoreCatalog{Store: a.hive().Catalog()}}
}

// interruptible ends on Ctrl-C or SIGTERM, so a spawn cleans up its worker
// and a follow ends normally.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// failWorker prints the error, its hint and, for a startup failure, the
// last lines of the worker's log.
func (a *app) failWorker(err error) int {
	code := a.fail(err)
	var we *workers.Error
	if errors.As(err, &we) {
		fmt.Fprint(a.stderr, we.Detail())
	}
	return code
}

func (a *app) workerSpawn(args []string) int {
	c := command{name: "worker spawn", args: "BACKEND --model ID [--gpu N] [--port P] [--wait DUR] [--json]",
		summary: "Start a worker for a downloaded model on a backend (cpu, metal, cuda) and wait until it is ready.\n" +
			"The worker id is worker-<backend>-<gpu>; its port is 8000+gpu (or --port), else the next free one.\n" +
			"Each backend has a worker profile in <home>/" + workers.ArgsFile + " ([backends.<backend>] profile, bin,\n" +
			"args, env, memory_factor); presets: go (this module's worker, the default for cpu:\n  " +
			strings.Join(workers.DefaultArgs(), " ") + ")\n" +
			"and rust-seed (the seed-era Rust worker, the default for metal and cuda: llm-worker-rbee-cuda\n  " +
			strings.Join(workers.RustArgs(workers.BackendCUDA), " ") + ").\n" +
			"$RBEE_WORKER_BIN_<BACKEND>, $RBEE_WORKER_BIN and $RBEE_WORKER_ARGS_<BACKEND> override it;\n" +
			"`rbee-hive status` shows each backend's profile and where its values came from.\n" +
			"Spawning a worker that is already running with the same model changes nothing and succeeds.",
		example: "rbee-hive worker spawn cpu --model tiny-llama\nrbee-hive worker spawn cuda --model qwen-0.5b --gpu 1 --wait 5m --json"}
	fs := a.flags(c)
	var req workers.SpawnRequest
	fs.StringVar(&req.ModelID, "model", "", "catalog id of the model (required)")
	fs.IntVar(&req.GPU, "gpu", 0, "device index")
	fs.IntVar(&req.Port, "port", 0, "port (default 8000+gpu; the next free one if taken)")
	fs.DurationVar(&req.Wait, "wait", workers.DefaultWait, "how long to wait for the worker to be ready")
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	if req.ModelID == "" {
		return a.usageError("worker spawn: --model is required", "run 'rbee-hive worker spawn --help'")
	}
	req.Backend = fs.Arg(0)
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	res, err := a.workers().Spawn(ctx, req)
	if err != nil {
		return a.failWorker(err)
	}
	if a.json {
		return a.printJSON(res)
	}
	if res.AlreadyRunning {
		fmt.Fprintf(a.stdout, "%s is already running at %s (model %s, pid %d, %s); nothing changed\n",
			res.ID, res.URI, res.ModelID, res.PID, res.State)
		return 0
	}
	fmt.Fprintf(a.stdout, "%s ready at %s (model %s, pid %d, port %d, %.1fs)\nlog: %s\n",
		res.ID, res.URI, res.ModelID, res.PID, res.Port, time.Since(start).Seconds(), res.LogPath)
	return 0
}

func (a *app) workerList(args []string) int {
	c := command{name: "worker list", args: "[--json]",
		summary: "List the workers of this pool with their state: ready, loading or dead\n" +
			"(dead: the recorded process is gone; 'worker stop' removes its record).",
		example: "rbee-hive worker list\nrbee-hive worker list --json"}
	fs := a.flags(c)
	if ok, code := a.parse(fs, c, args, 0); !ok {
		return code
	}
	list, err := a.workers().List(context.Background())
	if err != nil {
		return a.failWorker(err)
	}
	if a.json {
		if list == nil {
			list = []workers.Status{}
		}
		return a.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(a.stdout, "no workers (start one with: rbee-hive worker spawn cpu --model ID)")
		return 0
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tMODEL\tURI\tPID\tUPTIME")
	for _, w := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", w.ID, w.State, w.ModelID, w.URI, w.PID,
			time.Since(w.StartedAt).Round(time.Second))
	}
	if err := tw.Flush(); err != nil {
		return a.fail(err)
	}
	return 0
}

func (a *app) workerStop(args []string) int {
	c := command{name: "worker stop", args: "WORKER_ID [--timeout DUR]",
		summary: "Stop a worker: SIGTERM to its process group, SIGKILL after --timeout, then remove its record.",
		example: "rbee-hive worker stop worker-cpu-0\nrbee-hive worker stop worker-cuda-1 --timeout 30s"}
	fs := a.flags(c)
	timeout := fs.Duration("timeout", workers.DefaultStopTimeout, "how long to wait after SIGTERM before SIGKILL")
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	res, err := a.workers().Stop(context.Background(), fs.Arg(0), *timeout)
	if err != nil {
		return a.failWorker(err)
	}
	if a.json {
		return a.printJSON(res)
	}
	switch {
	case !res.WasRunning:
		fmt.Fprintf(a.stdout, "%s was not running (dead); record removed\n", res.ID)
	case res.Killed:
		fmt.Fprintf(a.stdout, "stopped %s (pid %d): killed after ignoring SIGTERM for %s\n", res.ID, res.PID, *timeout)
	default:
		fmt.Fprintf(a.stdout, "stopped %s (pid %d) in %s\n", res.ID, res.PID, res.Took.Round(time.Millisecond))
	}
	return 0
}

func (a *app) workerLogs(args []string) int {
	c := command{name: "worker logs", args: "WORKER_ID [--follow] [--tail N]",
		summary: "Print a worker's output (workers/<id>.log); also works after a failed spawn.\n" +
			"--follow keeps printing until the worker exits or Ctrl-C.",
		example: "rbee-hive worker logs worker-cpu-0 --tail 50\nrbee-hive worker logs worker-cpu-0 -f"}
	fs := a.flags(c)
	var opt workers.LogOptions
	fs.BoolVarP(&opt.Follow, "follow", "f", false, "keep printing new output")
	fs.IntVarP(&opt.Tail, "tail", "n", 0, "only the last N lines (0 = all)")
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	if opt.Tail < 0 {
		return a.usageError("worker logs: --tail must be 0 or more", "")
	}
	ctx, stop := interruptible()
	defer stop()
	if err := a.workers().Logs(ctx, fs.Arg(0), opt, a.stdout); err != nil {
		return a.failWorker(err)
	}
	return 0
}
