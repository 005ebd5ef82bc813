package matrix_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper/matrix"
	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/realmodel"
)

// envFakeWorker makes this test binary act as a misbehaving llm-worker-rbee
// (the hive spawns it through RBEE_WORKER_BIN_CPU), so the tests can check
// that the matrix itself catches what a broken worker does.
const envFakeWorker = "RBEE_MATRIX_FAKE_WORKER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envFakeWorker); mode != "" {
		if err := fakeWorker(mode, os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "fake worker:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// fakeWorker serves the DESIGN §5 protocol with one fault: "gap" skips a
// token index, "random" answers every request differently, "wrong-story"
// answers every request with the same story, one word off the published one.
func fakeWorker(mode string, args []string) error {
	fs := flag.NewFlagSet("fake-worker", flag.ContinueOnError)
	id := fs.String("worker-id", "", "")
	port := fs.Int("port", 0, "")
	callback := fs.String("callback-url", "", "")
	fs.String("model", "", "")
	fs.String("backend", "", "")
	fs.Int("device", 0, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var calls atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(worker.Health{Status: worker.StatusHealthy})
	})
	mux.HandleFunc("POST /execute", func(w http.ResponseWriter, r *http.Request) {
		var req worker.ExecuteRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", worker.ContentTypeSSE)
		enc := worker.NewEncoder(w)
		n := calls.Add(1)
		switch mode {
		case "lone-error": // the Rust worker's failure: no started before it
			_ = enc.Encode(worker.Error("INFERENCE_FAILED", "cannot broadcast [5, 5] to [1, 4, 5, 10]"))
			return
		case "buffered": // the Rust worker: 40 ms of work, then everything at once
			time.Sleep(40 * time.Millisecond)
			var buf bytes.Buffer
			all := worker.NewEncoder(&buf)
			_ = all.Encode(worker.Started(req.JobID, "model", "0"))
			for i := range 4 {
				_ = all.Encode(worker.Token(" t", i))
			}
			_ = all.Encode(worker.End(4, 40, worker.StopMaxTokens, ""))
			_, _ = w.Write(buf.Bytes())
			return
		}
		_ = enc.Encode(worker.Started(req.JobID, "fake", time.Now().UTC().Format(time.RFC3339)))
		sent := 0
		if mode == "wrong-story" {
			for _, w := range strings.SplitAfter(strings.Replace(realmodel.Continuation(), "girl", "boy", 1), " ") {
				_ = enc.Encode(worker.Token(w, sent))
				sent++
			}
			_ = enc.Encode(worker.End(sent, 1, worker.StopMaxTokens, ""))
			return
		}
		for i := range 4 {
			idx := i
			if mode == "gap" && i >= 2 {
				idx = i + 1
			}
			_ = enc.Encode(worker.Token(" t"+strconv.FormatInt(n, 10), idx))
			sent++
		}
		_ = enc.Encode(worker.End(sent, 1, worker.StopMaxTokens, ""))
	})
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		body, _ := json.Marshal(worker.ReadyCallback{WorkerID: *id, URI: "http://" + ln.Addr().String()})
		if resp, err := http.Post(*callback, "application/json", bytes.NewReader(body)); err == nil {
			resp.Body.Close()
		}
	}()
	return http.Serve(ln, mux) // until the hive's SIGTERM ends the process
}

func TestCellCatchesABrokenWorker(t *testing.T) {
	tests := []struct {
		mode  string
		model string // default tiny-llama
		want  string
	}{
		{mode: "gap", want: "execute: run 1: stream conformance (token-index)"},
		{mode: "random", want: "execute: not deterministic at temperature 0, seed 42"},
		// two runs agree, but not with the published text
		{mode: "wrong-story", model: realmodel.HFID, want: `execute: not the published text: differs at byte 21: got "boy named Li", want "girl named L"`},
		{mode: "lone-error", want: "execute: run 1: worker error INFERENCE_FAILED: cannot broadcast [5, 5] to [1, 4, 5, 10]"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Setenv(envFakeWorker, tt.mode)
			t.Setenv("RBEE_WORKER_BIN_CPU", os.Args[0])
			model := cmp.Or(tt.model, "tiny-llama")
			r := setupLocal(t, model)
			c := r.Pools[0].RunCell(context.Background(), "cpu", r.Models[0], time.Minute)
			require.Equal(t, matrix.Fail, c.Status, "the fake worker %q must fail the cell", tt.mode)
			assert.Contains(t, c.Reason, tt.want)
			assert.LessOrEqual(t, len(c.Reason), 120, "the table shows the reason whole")
			var list []json.RawMessage
			k, host := r.Pools[0].Keeper()
			require.NoError(t, k.RunJSON(context.Background(), host, []string{"worker", "list"}, &list))
			assert.Empty(t, list, "the failed cell stopped its worker")
		})
	}
}

// A buffered stream passes, is marked buffered and has no first-token figure.
func TestCellMarksABufferedStream(t *testing.T) {
	t.Setenv(envFakeWorker, "buffered")
	t.Setenv("RBEE_WORKER_BIN_CPU", os.Args[0])
	r := setupLocal(t, "tiny-llama")
	c := r.Pools[0].RunCell(context.Background(), "cpu", r.Models[0], time.Minute)
	require.Equal(t, matrix.Pass, c.Status, c.Reason)
	assert.True(t, c.Buffered)
	assert.Zero(t, c.FirstTokenMs)
	run := matrix.Run{Cells: []matrix.Cell{c}}
	assert.Contains(t, matrix.Render(run, nil), "| buffered |")
}
