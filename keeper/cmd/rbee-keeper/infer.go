package main

import (
	"fmt"
	"strings"

	"github.com/rbee-go/rbee/internal/cli"
	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/worker"
)

func (a *app) infer(args []string) int {
	c := specInfer()
	fs := a.flags(c, nil)
	var req keeper.InferRequest
	fs.StringVar(&req.Worker, "worker", "", "the worker, HOST:PORT (required)")
	host := fs.String("host", "", "the worker's pool: dial HOST:PORT from that pool through SSH (a pool name or [user@]host[:port])")
	fs.StringVar(&req.Prompt, "prompt", "", "the prompt (required)")
	fs.IntVar(&req.MaxTokens, "max-tokens", 100, "most tokens to generate")
	fs.Float64Var(&req.Temperature, "temperature", worker.DefaultTemperature, "sampling temperature; 0 = greedy")
	seed := fs.Uint64("seed", 0, "sampling seed (same seed and request, same tokens)")
	if ok, code := a.parse(fs, c, args, 0); !ok {
		return code
	}
	for _, f := range []struct{ name, val string }{{"worker", req.Worker}, {"prompt", req.Prompt}} {
		if strings.TrimSpace(f.val) == "" {
			return a.usageError("infer: --"+f.name+" is required", "run 'rbee-keeper infer --help'")
		}
	}
	if req.MaxTokens < 1 {
		return a.usageError("infer: --max-tokens must be at least 1", "")
	}
	if fs.Changed("seed") {
		req.Seed = seed
	}
	ctx, cancel := signalContext()
	defer cancel()
	if *host != "" {
		k, err := a.keeper()
		if err != nil {
			return a.fail(err)
		}
		defer func() { _ = k.Close() }()
		if req.Dial, err = k.WorkerDial(ctx, *host); err != nil {
			a.fail(err)
			return keeper.ExitTransport
		}
	}
	var onToken func(string)
	if !a.json {
		onToken = func(t string) { fmt.Fprint(a.stdout, t) }
	}
	res, err := keeper.Infer(ctx, req, onToken)
	if !a.json && res.Tokens > 0 {
		fmt.Fprintln(a.stdout)
	}
	if err != nil {
		return a.fail(err)
	}
	if a.json {
		if err := cli.WriteJSON(a.stdout, res); err != nil {
			return a.fail(err)
		}
		return 0
	}
	fmt.Fprintf(a.stdout, "\n%d tokens, %d ms (first token %d ms), %.1f tokens/s, stop reason %s\n",
		res.Tokens, res.TotalMS, res.FirstTokenMS, res.TokensPerSec, res.StopReason)
	return 0
}
