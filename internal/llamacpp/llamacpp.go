package llamacpp

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed judge.mjs
var judgeScript []byte

// ErrNotInstalled is wrapped by every error about a missing Node or
// node-llama-cpp installation.
var ErrNotInstalled = errors.New("llama.cpp (npm node-llama-cpp) is not installed")

const installHint = "hint: run scripts/deps.sh (or make deps) from the module root; it installs node-llama-cpp into .cache/llamacpp"

// Step is one greedy decoding step of llama.cpp.
type Step struct {
	Token int // the chosen (most probable) token id
	// Top1 and Top2 are the two best logits less the same constant (their
	// log-probabilities among the two: node-llama-cpp exposes probabilities,
	// not logits), so Top1-Top2 is the logit margin; Top2 is -Inf if its
	// probability underflowed.
	Top1, Top2 float32
	Top2Token  int    // the runner-up's id; -1 if the vocabulary has one token
	Text       string // what the token adds to the detokenized text before it (llama.cpp's detokenizer)
}

// Margin is the gap between the two best logits (log-probabilities differ
// from logits by the same constant within a step).
func (s Step) Margin() float32 { return s.Top1 - s.Top2 }

// Timing is one benchmark run of llama.cpp.
type Timing struct {
	PromptTokens, GenTokens, Threads int
	Prefill                          time.Duration // the prompt in one batch, with its first sampled token
	Decode                           time.Duration // GenTokens further single-token steps
}

// PrefillTokPerSec is the prompt throughput.
func (t Timing) PrefillTokPerSec() float64 { return float64(t.PromptTokens) / t.Prefill.Seconds() }

// DecodeTokPerSec is the generation throughput.
func (t Timing) DecodeTokPerSec() float64 { return float64(t.GenTokens) / t.Decode.Seconds() }

// Greedy decodes n tokens greedily after prompt (token ids, given as is: no
// BOS is added) with the model in ggufPath, on one thread.
func Greedy(ctx context.Context, ggufPath string, prompt []int, n int) ([]Step, error) {
	if len(prompt) == 0 || n < 1 {
		return nil, fmt.Errorf("llamacpp: greedy needs a prompt and n >= 1 (got %d tokens, n=%d)", len(prompt), n)
	}
	ids := make([]string, len(prompt))
	for i, t := range prompt {
		ids[i] = strconv.Itoa(t)
	}
	var out struct {
		Steps []struct {
			Token     int      `json:"token"`
			Top1      *float64 `json:"top1"`
			Top2      *float64 `json:"top2"`
			Top2Token *int     `json:"top2_token"`
			Text      string   `json:"text"`
		} `json:"steps"`
	}
	if err := run(ctx, &out, "greedy", "--model", ggufPath, "--prompt", strings.Join(ids, ","), "--n", strconv.Itoa(n)); err != nil {
		return nil, err
	}
	steps := make([]Step, len(out.Steps))
	for i, s := range out.Steps {
		steps[i] = Step{Token: s.Token, Top1: logp(s.Top1), Top2: logp(s.Top2), Top2Token: -1, Text: s.Text}
		if s.Top2Token != nil {
			steps[i].Top2Token = *s.Top2Token
		}
	}
	if len(steps) != n {
		return steps, fmt.Errorf("llamacpp: asked for %d greedy tokens, got %d", n, len(steps))
	}
	return steps, nil
}

// logp turns the script's log-probability (null for a probability of 0) into
// a float32.
func logp(v *float64) float32 {
	if v == nil {
		return float32(math.Inf(-1))
	}
	return float32(*v)
}

// Bench runs one prefill of promptTokens tokens and genTokens decode steps
// with the given number of threads, and returns their times.
func Bench(ctx context.Context, ggufPath string, promptTokens, genTokens, threads int) (Timing, error) {
	if promptTokens < 1 || genTokens < 1 || threads < 1 {
		return Timing{}, fmt.Errorf("llamacpp: bench needs promptTokens, genTokens and threads >= 1 (got %d, %d, %d)", promptTokens, genTokens, threads)
	}
	var out struct {
		PrefillMS float64 `json:"prefill_ms"`
		DecodeMS  float64 `json:"decode_ms"`
	}
	if err := run(ctx, &out, "bench", "--model", ggufPath, "--prompt-tokens", strconv.Itoa(promptTokens),
		"--gen-tokens", strconv.Itoa(genTokens), "--threads", strconv.Itoa(threads)); err != nil {
		return Timing{}, err
	}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return Timing{PromptTokens: promptTokens, GenTokens: genTokens, Threads: threads,
		Prefill: ms(out.PrefillMS), Decode: ms(out.DecodeMS)}, nil
}

// run starts the embedded judge script with args and decodes its JSON.
func run(ctx context.Context, out any, mode string, args ...string) error {
	pkg, err := packageDir()
	if err != nil {
		return err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("%w: no node on PATH\n%s", ErrNotInstalled, installHint)
	}
	// A file, not stdin: node-llama-cpp tests its binding in a child process
	// that inherits node's flags, and --input-type would break it.
	dir, err := os.MkdirTemp("", "rbee-llamacpp-")
	if err != nil {
		return fmt.Errorf("llamacpp: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	script := filepath.Join(dir, "judge.mjs")
	if err := os.WriteFile(script, judgeScript, 0o600); err != nil {
		return fmt.Errorf("llamacpp: %w", err)
	}
	cmd := exec.CommandContext(ctx, node, append([]string{script, mode, "--nlc", pkg}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("llamacpp %s: %w: %s", mode, err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("llamacpp %s: reading the judge's output: %w", mode, err)
	}
	return nil
}

// packageDir finds the installed node-llama-cpp package: under RBEE_LLAMACPP
// if set, else under .cache/llamacpp of the module root above the working
// directory (go test runs in the package's folder).
func packageDir() (string, error) {
	const rel = "node_modules/node-llama-cpp"
	if dir := os.Getenv("RBEE_LLAMACPP"); dir != "" {
		return checkPackage(filepath.Join(dir, rel))
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("llamacpp: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return checkPackage(filepath.Join(dir, ".cache/llamacpp", rel))
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("%w: no go.mod above %s to find .cache/llamacpp (or set RBEE_LLAMACPP)\n%s", ErrNotInstalled, wd, installHint)
		}
	}
}

func checkPackage(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "dist", "index.js")); err != nil {
		return "", fmt.Errorf("%w: %s missing\n%s", ErrNotInstalled, dir, installHint)
	}
	return dir, nil
}
