package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/llamacpp"
	"github.com/rbee-go/rbee/internal/membw"
	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/server"
)

const (
	vsPrompt  = 128 // prefill tokens
	vsGen     = 64  // decode steps after the prompt's
	vsThreads = 2
	vsRounds  = 5
)

// vsFigures are one type's medians.
type vsFigures struct {
	name                     string
	oursPrefill, oursDecode  float64 // tok/s
	llamaPrefill, llamaDecde float64
	roofline                 float64 // triad GB/s / decode bytes
	rssAnonMiB, rssFileMiB   int64
	hugeMiB                  int64 // of the file part, mapped in 2 MiB pages
}

// BenchmarkWorkerVsLlamaCpp (make bench-worker): the HTTP worker as served
// (the GGUF memory-mapped, server.Load → /execute over HTTP) against
// llama.cpp (node-llama-cpp) on the same file, TinyLlama-1.1B-shaped random
// models in BF16, F16, Q8_0 and Q4_K_M, 2 threads each, 128-token prompt,
// 64 greedy decode steps; alternating, vsRounds rounds, medians; the
// STREAM triad (2 threads) between rounds gives the decode roofline.
// RBEE_BENCH_TYPES=BF16,Q8_0 runs only those types.
func BenchmarkWorkerVsLlamaCpp(b *testing.B) {
	tl := newTiler(b)
	var rows []vsFigures
	for range b.N {
		rows = rows[:0]
		for _, bf := range benchFiles() {
			if only := os.Getenv("RBEE_BENCH_TYPES"); only != "" && !slices.Contains(strings.Split(only, ","), bf.Name) {
				continue
			}
			rows = append(rows, vsType(b, tl, bf))
		}
	}
	// stdout, not b.Log: the testing package cuts long benchmark logs
	fmt.Println(vsTable(rows))
}

func vsType(b *testing.B, tl *tiler, bf benchFile) vsFigures {
	ctx := context.Background()
	dir := b.TempDir()
	t0 := time.Now()
	path := bf.write(b, tl, dir)
	debug.FreeOSMemory()
	progress("%s: written in %v", bf.Name, time.Since(t0))
	t0 = time.Now()
	be, err := server.Load(path, server.LoadOptions{Threads: vsThreads})
	require.NoError(b, err)
	_, fileMiB, hugeMiB := rssMiB(b)
	progress("%s: loaded in %v, %d of %d MiB mapped in 2 MiB pages", bf.Name, time.Since(t0), hugeMiB, fileMiB)
	defer func() { require.NoError(b, be.Close()) }()
	ts := httptest.NewServer(server.New(be, server.Options{}).Handler())
	defer ts.Close()
	c := worker.NewClient(ts.URL)
	req := worker.NewExecuteRequest("bench", promptOf(b, be, vsPrompt), vsGen+1)
	req.Temperature = 0

	var op, od, lp, ld, bw []float64
	for round := range vsRounds {
		runOurs := func() {
			evs, err := c.Run(ctx, req)
			require.NoError(b, err)
			end := evs[len(evs)-1]
			require.Equal(b, worker.EventEnd, end.Type, "%+v", end)
			require.Greater(b, end.TokensOut, vsGen/4, "the random model stopped early (EOS)")
			op = append(op, float64(vsPrompt)*1000/float64(max(end.PrefillTimeMS, 1)))
			// tokens_out tokens took tokens_out-1 forward passes after the prompt's
			od = append(od, float64(end.TokensOut-1)*1000/float64(max(end.DecodeTimeMS, 1)))
		}
		runLlama := func() {
			tm, err := llamacpp.Bench(ctx, path, vsPrompt, vsGen, vsThreads)
			require.NoError(b, err)
			lp, ld = append(lp, tm.PrefillTokPerSec()), append(ld, tm.DecodeTokPerSec())
		}
		if round%2 == 0 {
			runOurs()
			runLlama()
		} else {
			runLlama()
			runOurs()
		}
		tr, err := membw.Triad(ctx, membw.Options{Threads: vsThreads, Rounds: 5})
		require.NoError(b, err)
		bw = append(bw, tr.GBps)
		progress("%s round %d: ours %.1f/%.1f, llama.cpp %.1f/%.1f tok/s (prefill/decode), triad %.1f GB/s",
			bf.Name, round+1, op[round], od[round], lp[round], ld[round], tr.GBps)
	}
	anon, file, huge := rssMiB(b)
	f := vsFigures{name: bf.Name, oursPrefill: median(op), oursDecode: median(od), llamaPrefill: median(lp), llamaDecde: median(ld),
		roofline: median(bw) * 1e9 / float64(bf.decodeBytes), rssAnonMiB: anon, rssFileMiB: file, hugeMiB: huge}
	b.Logf("%s: ours prefill %v decode %v; llama.cpp prefill %v decode %v; triad GB/s %v", bf.Name, op, od, lp, ld, bw)
	return f
}

// promptOf returns a text the worker's tokenizer encodes to exactly n ids
// (BOS included): words of a story, repeated, one more at a time.
func promptOf(b *testing.B, be *server.Backend, n int) string {
	words := strings.Fields("Once upon a time there was a little girl who lived in a village near the forest and every day she walked to see her grandmother")
	text := ""
	for i := 0; i < 4*n; i++ {
		next := strings.TrimSpace(text + " " + words[i%len(words)])
		got := len(be.Tokenizer.Encode(next, true))
		if got == n {
			return next
		}
		if got > n {
			break
		}
		text = next
	}
	b.Fatalf("no prompt of exactly %d tokens", n)
	return ""
}

// progress prints to stderr as the benchmark goes (b.Log shows only at the end).
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-worker: "+format+"\n", args...)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// rssMiB reads this process's anonymous and file-backed resident memory,
// and how much of the file part is mapped in 2 MiB pages (the weights: a
// decode step in 4 KiB pages walks ~500k page entries for a 2 GB model and
// ran ~20% slower when fragmented memory left the page cache in small folios).
func rssMiB(b *testing.B) (anon, file, huge int64) {
	b.Helper()
	for _, src := range []struct {
		path string
		keys map[string]*int64
	}{
		{"/proc/self/status", map[string]*int64{"RssAnon:": &anon, "RssFile:": &file}},
		{"/proc/self/smaps_rollup", map[string]*int64{"FilePmdMapped:": &huge}},
	} {
		st, err := os.ReadFile(src.path)
		if err != nil {
			return -1, -1, -1
		}
		for _, l := range strings.Split(string(st), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && src.keys[f[0]] != nil {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				*src.keys[f[0]] = kb >> 10
			}
		}
	}
	return anon, file, huge
}

func vsTable(rows []vsFigures) string {
	var s strings.Builder
	fmt.Fprintf(&s, "| type | prefill tok/s ours | llama.cpp | ours/llama | decode tok/s ours | llama.cpp | ours/llama | roofline tok/s | ours/roofline | llama/roofline | RSS anon / file (in 2 MiB pages) MiB |\n")
	s.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&s, "| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %.1f | %.2f | %.2f | %d / %d (%d) |\n", r.name,
			r.oursPrefill, r.llamaPrefill, r.oursPrefill/r.llamaPrefill, r.oursDecode, r.llamaDecde, r.oursDecode/r.llamaDecde,
			r.roofline, r.oursDecode/r.roofline, r.llamaDecde/r.roofline, r.rssAnonMiB, r.rssFileMiB, r.hugeMiB)
	}
	return s.String()
}
