// Command rust-seed-worker is the test bed's stand-in for the seed-era Rust
// llm-worker-rbee (see package rustworker). The harness installs it under
// the three binary names; the name it is run as picks the build.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/rbee-go/rbee/internal/testbed/rustworker"
)

func main() {
	// Only SIGINT is handled; SIGTERM keeps its default action (immediate death).
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT)
	code := rustworker.Run(ctx, rustworker.Options{
		Build: rustworker.BuildOf(filepath.Base(os.Args[0])), Args: os.Args[1:],
		Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Pid: os.Getpid(),
	})
	stop()
	os.Exit(code)
}
