package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/internal/cli"
)

// progressInterval is how often plain progress lines are printed.
const progressInterval = 2 * time.Second

func (a *app) modelsDownload(args []string) int {
	c := command{name: "models download", args: "ID [--revision REV] [--connections N] [--json]",
		summary: "Download a registered model's files from the Hugging Face Hub into models/ID/.\n\n" +
			"The hub is HF_ENDPOINT (default https://huggingface.co); the token is HF_TOKEN, else the\n" +
			"token file $HF_HOME/token. Files resume from <file>.incomplete, are verified (size, sha256)\n" +
			"and only then is the catalog marked downloaded. Running it again is a fast no-op.\n" +
			"Failed transfers are retried with backoff (6 tries); one that delivers no byte for\n" +
			"HF_HUB_DOWNLOAD_TIMEOUT seconds (default 30) counts as stalled and is retried. A rate limit\n" +
			"(HTTP 429) is waited for as the hub announces, up to 10 minutes in total (the budget:\n" +
			"RBEE_HUB_RATE_LIMIT_BUDGET, e.g. 30m). Big LFS files are fetched as --connections\n" +
			"parallel range requests into one file, resumable per part.\n" +
			"Without --include patterns in the catalog entry, a repo with model.safetensors.index.json\n" +
			"gets exactly its shards (never consolidated*.safetensors, params.json or original/).",
		example: "rbee-hive models download qwen-0.5b\nHF_ENDPOINT=http://mirror.lan:8088 rbee-hive models download tinyllama --json"}
	fs := a.flags(c)
	rev := fs.String("revision", "", "repo revision to fetch (default: the catalog entry's, else main)")
	conns := fs.Int("connections", hfhub.DefaultConnections,
		fmt.Sprintf("parallel range requests per LFS file of %s or more (1 = one stream per file)", hfhub.HumanBytes(hfhub.DefaultRangeMin)))
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	if *conns < 1 || *conns > 64 {
		return a.usageError(fmt.Sprintf("models download: --connections must be 1 to 64, got %d", *conns),
			fmt.Sprintf("use 1 for one stream per file, or the default %d", hfhub.DefaultConnections))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := hfhub.New(hfhub.ConfigFromEnv(a.getenv), hfhub.WithProgress(a.progress()), hfhub.WithConnections(*conns, 0))
	res, err := a.hive().Download(ctx, fs.Arg(0), hive.DownloadOptions{Revision: *rev, Client: client})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return a.fail(&hintError{msg: "download of " + fs.Arg(0) + " interrupted",
				hint: "run the same command again: it continues from the bytes already on disk"})
		}
		return a.fail(err)
	}
	h := res.Hub
	secs := h.Duration.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(h.Fetched) / 1e6 / secs
	}
	if a.json {
		return a.printJSON(map[string]any{
			"id": res.Model.ID, "repo": h.Repo, "revision": h.Revision, "commit": h.Commit, "path": res.Model.Path,
			"files": res.Model.Metadata.Files, "size_bytes": h.Bytes, "fetched_bytes": h.Fetched,
			"seconds": round2(secs), "mb_per_s": round2(rate), "already_downloaded": res.AlreadyDownloaded,
		})
	}
	short := h.Commit
	if len(short) > 12 {
		short = short[:12]
	}
	if h.AlreadyComplete() {
		what := "already downloaded"
		if !res.AlreadyDownloaded {
			what = "already on disk and verified; catalog updated"
		}
		fmt.Fprintf(a.stdout, "%s is %s: %d files, %s, commit %s (nothing fetched)\n",
			res.Model.ID, what, len(h.Files), hfhub.HumanBytes(h.Bytes), short)
		return 0
	}
	fmt.Fprintf(a.stdout, "downloaded %s: %d files, %s (%s fetched) in %.1f s, %.1f MB/s\n",
		res.Model.ID, len(h.Files), hfhub.HumanBytes(h.Bytes), hfhub.HumanBytes(h.Fetched), secs, rate)
	fmt.Fprintf(a.stdout, "  repo %s@%s, commit %s\n  path %s\n", h.Repo, h.Revision, short, res.Model.Path)
	return 0
}

// progress draws a bar when stderr is a terminal, plain lines otherwise
// (logs, pipes, the keeper's remote output). stdout stays for the result.
func (a *app) progress() hfhub.Progress {
	if cli.IsTerminal(a.stderr) {
		return hfhub.NewBar(a.stderr)
	}
	return hfhub.NewLines(a.stderr, progressInterval)
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// hintError is a one-off error with an operator hint.
type hintError struct{ msg, hint string }

func (e *hintError) Error() string     { return e.msg }
func (e *hintError) ErrorHint() string { return e.hint }
