package matrix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/rbee-go/rbee/hive/workers"
	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/worker"
)

// What the matrix learns from the worker itself, so that a cell says why
// in the worker's own words: the log line of a failed spawn, the proof of
// GPU use, a buffered stream.

// spawnFailure is a failed spawn told by the worker's log.
type spawnFailure struct {
	msg string
	err error
}

func (e *spawnFailure) Error() string { return e.msg }
func (e *spawnFailure) Unwrap() error { return e.err }

// hiveFailures are the hive's startup failures, as the reason names them.
var hiveFailures = regexp.MustCompile(`exited before ready|exited after its ready callback|did not become ready within \S+|sent its ready callback but did not serve /health`)

// explainSpawn turns a failed `worker spawn` into "exited before ready:
// <the worker's most telling log line>" and keeps the log tail on the cell.
func (r *cell) explainSpawn(err error) error {
	var hs *keeper.HiveStderr
	if !errors.As(err, &hs) {
		return err
	}
	tail := logTail(hs.Text)
	if len(tail) == 0 {
		return err
	}
	r.c.LogTail = tail
	what := hiveFailures.FindString(firstLine(err.Error()))
	if what == "" {
		return err
	}
	if tell := workers.TellingLine(tail); tell != "" {
		what += ": " + tell
	}
	return &spawnFailure{msg: what, err: err}
}

// logTail reads the "  | line" block the hive prints under a startup
// failure, ANSI codes stripped.
func logTail(stderr string) []string {
	var tail []string
	for _, l := range strings.Split(stderr, "\n") {
		if line, ok := strings.CutPrefix(l, "  | "); ok {
			tail = append(tail, workers.StripANSI(line))
		} else if l == "  |" {
			tail = append(tail, "")
		}
	}
	return tail
}

// ErrNoGPU is a GPU cell whose worker did not use the GPU.
var ErrNoGPU = errors.New("worker did not use the GPU")

// checkGPU proves that a cuda/metal worker runs on the GPU: nvidia-smi on
// the pool lists its pid (cuda), or its /health reports vram_bytes > 0.
func (r *cell) checkGPU(ctx context.Context, client *worker.Client, rec workers.Record) error {
	if r.backend != "cuda" && r.backend != "metal" {
		return nil
	}
	h, err := client.Health(ctx)
	if err != nil {
		return err
	}
	if h.VRAMBytes > 0 {
		return nil
	}
	what := "/health vram_bytes 0"
	if r.backend == "cuda" {
		var list []workers.Status
		if err := r.hive(ctx, &list, "worker", "list"); err != nil {
			return err
		}
		for _, w := range list {
			if w.ID != rec.ID || w.GPU == nil {
				continue
			}
			if w.GPU.Listed {
				return nil
			}
			what = fmt.Sprintf("nvidia-smi lists no process %d, %s", rec.PID, what)
			if w.GPU.Error != "" {
				what = fmt.Sprintf("nvidia-smi: %s; %s", w.GPU.Error, what)
			}
		}
	}
	return fmt.Errorf("%w (%s)", ErrNoGPU, what)
}

// bufferedWindow: tokens arriving this close to the terminal event came
// in one burst.
const bufferedWindow = 5 * time.Millisecond

// minDecodeForVerdict: a worker whose own generation took less than this
// cannot be told apart from a buffered one by arrival times.
const minDecodeForVerdict = 20 * time.Millisecond

// isBuffered: every token arrived within bufferedWindow of the terminal
// event although the worker says it spent minDecodeForVerdict or more
// generating them. Such a stream's first-token time is its end time.
func isBuffered(tokenAt []time.Time, terminalAt time.Time, decodeMS int64) bool {
	if len(tokenAt) == 0 || time.Duration(decodeMS)*time.Millisecond < minDecodeForVerdict {
		return false
	}
	return terminalAt.Sub(tokenAt[0]) <= bufferedWindow
}

// bufferedNote explains the first-token column's "buffered".
const bufferedNote = "first token \"buffered\" = the worker sent the whole stream after its last token (the seed-era Rust worker),\n" +
	"so there is no first-token figure.\n"

// firstTokenText is the table's first-token figure; a buffered stream has none.
func firstTokenText(c Cell) string {
	if c.Buffered {
		return "buffered"
	}
	return fmt.Sprint(c.FirstTokenMs)
}

// writeLogTails writes each failed cell's worker log tail to
// dir/worker-logs/<pool>_<backend>_<model>.log.
func writeLogTails(dir string, run Run) error {
	for _, c := range run.Cells {
		if len(c.LogTail) == 0 {
			continue
		}
		logs := filepath.Join(dir, "worker-logs")
		if err := os.MkdirAll(logs, 0o755); err != nil {
			return err
		}
		name := strings.NewReplacer("/", "_", ":", "_").Replace(c.Pool+"_"+c.Backend+"_"+c.Model) + ".log"
		if err := os.WriteFile(filepath.Join(logs, name), []byte(strings.Join(c.LogTail, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}
