// Command llm-worker-rbee is the Go CPU worker of rbee: it loads a Hugging
// Face safetensors model or a GGUF file and serves /health and /execute (DESIGN §5).
// Flag parsing and printing only; the behaviour lives in worker/server.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/rbee-go/rbee/internal/cli"
	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/server"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	// After the first signal starts the graceful shutdown, a second one
	// takes the default action (exit at once).
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `llm-worker-rbee — the Go CPU worker of rbee (real transformer inference on safetensors and GGUF models)

Usage:
  llm-worker-rbee --worker-id ID --model PATH --port PORT --callback-url URL --backend cpu --device N

Flags:
%s
PATH is a Hugging Face model folder (config.json, model.safetensors or shards
with model.safetensors.index.json, tokenizer.json), a single .safetensors
file next to those, or a single .gguf file (GGUF v2/v3: weights, config and
tokenizer in one; F32/F16/BF16 tensors run as stored, quantized ones are
dequantized to F32 at load). Architectures: Llama, Mistral, Qwen2, Phi-3.

Once the model is loaded and the port is open, the worker POSTs
{"worker_id","vram_bytes","uri"} to --callback-url and serves:
  GET  /health    {"status":"healthy","vram_bytes":N,"kv_cache_bytes":N}
  POST /execute   {"job_id","prompt","max_tokens",...} → text/event-stream
It binds --host (default 127.0.0.1, reachable from this machine only; use
--host 0.0.0.0 to serve the network, the uri then names the address that
routes to the callback host). SIGTERM or SIGINT cancels the running
generation and exits 0.

Examples:
  llm-worker-rbee --worker-id w1 --model ~/.rbee/models/tiny-llama --port 8081 \
      --callback-url http://127.0.0.1:9200/ready --backend cpu --device 0
  curl -N -d '{"job_id":"j1","prompt":"Hello","max_tokens":16,"temperature":0}' \
      http://127.0.0.1:8081/execute
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("llm-worker-rbee", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	var cfg server.RunConfig
	fs.StringVar(&cfg.WorkerID, "worker-id", "", "worker id, echoed in the ready callback (required)")
	fs.StringVar(&cfg.ModelPath, "model", "", "model folder, .safetensors or .gguf file (required)")
	fs.IntVar(&cfg.Port, "port", 0, "port to serve on (0 = any free port; the callback reports it)")
	fs.StringVar(&cfg.CallbackURL, "callback-url", "", "URL to POST the ready callback to (optional)")
	fs.StringVar(&cfg.Backend, "backend", server.BackendCPU, "compute backend; the Go worker serves cpu only")
	fs.IntVar(&cfg.Device, "device", 0, "device index (ignored by the cpu backend)")
	fs.StringVar(&cfg.Host, "host", "127.0.0.1", "address to bind (0.0.0.0 = all interfaces)")
	fs.IntVar(&cfg.Threads, "threads", 0, "compute threads (0 = all cores)")
	logLevel := fs.String("log-level", "info", "log level on stderr: debug, info, warn, error")
	version := fs.Bool("version", false, "print the version and exit")
	help := fs.BoolP("help", "h", false, "show this help")

	usageErr := func(format string, a ...any) int {
		return cli.UsageError(stderr, fmt.Sprintf(format, a...), "llm-worker-rbee --help shows the flags and an example")
	}
	if err := fs.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	switch {
	case *help:
		fmt.Fprintf(stdout, usage, fs.FlagUsages())
		return 0
	case *version:
		fmt.Fprintf(stdout, "llm-worker-rbee %s (Go CPU worker, %s %s/%s)\n", worker.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case cfg.WorkerID == "":
		return usageErr("--worker-id is required")
	case cfg.ModelPath == "":
		return usageErr("--model is required")
	case cfg.Port < 0 || cfg.Port > 65535:
		return usageErr("--port %d is out of range 0-65535", cfg.Port)
	case cfg.Device < 0:
		return usageErr("--device %d must be >= 0", cfg.Device)
	case cfg.Threads < 0:
		return usageErr("--threads %d must be >= 0", cfg.Threads)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageErr("--log-level %q: use debug, info, warn or error", *logLevel)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	err := server.Run(ctx, cfg)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	var be *server.BackendError
	switch {
	case errors.As(err, &be):
		fmt.Fprintf(stderr, "hint: this Go worker serves --backend cpu; for %s use the Rust llm-worker-rbee (on the hive: RBEE_WORKER_BIN_%s)\n",
			cfg.Backend, upper(cfg.Backend))
	case errors.Is(err, engine.ErrUnsupported), errors.Is(err, tokenizer.ErrUnsupported), errors.Is(err, quant.ErrUnsupportedType):
		fmt.Fprintln(stderr, "hint: the Go worker runs LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM and Phi3ForCausalLM safetensors models, and GGUF files of the llama, qwen2 and phi3 architectures")
	case errors.Is(err, server.ErrModel):
		fmt.Fprintln(stderr, "hint: --model takes a Hugging Face model folder with config.json, model.safetensors (or shards) and tokenizer.json, or a single .gguf file")
	case errors.Is(err, server.ErrListen):
		fmt.Fprintln(stderr, "hint: is the port taken? pick another --port, or --port 0 for any free one")
	}
	return 1
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
