package tokenizer_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// benchText is a few KB of mixed prose, code, numbers and non-Latin text.
func benchText(t testing.TB) string {
	var b strings.Builder
	for _, e := range getFixture(t, spm).encodings {
		b.WriteString(e.Text)
		b.WriteString("\n")
	}
	base := b.String()
	return strings.Repeat(base, 4096/len(base)+1)
}

// BenchmarkEncode times Encode of a few KB of mixed text against a reference
// run alternately in the same iterations (so machine load hits both alike):
// one pass of Go's RE2 regexp over the same text with the Qwen2 split pattern
// minus its lookahead alternative, i.e. the least any regex pre-tokenizer
// costs. ns/op is Encode alone; ref-ns/op and encode/ref are reported too.
func BenchmarkEncode(b *testing.B) {
	text := benchText(b)
	re := regexp.MustCompile(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+`)
	for _, fam := range families {
		tk := load(b, fam)
		b.Run(fam, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			var ref time.Duration
			for b.Loop() {
				b.StopTimer()
				t0 := time.Now()
				re.FindAllStringIndex(text, -1)
				ref += time.Since(t0)
				b.StartTimer()
				tk.Encode(text, true)
			}
			refNs := float64(ref.Nanoseconds()) / float64(b.N)
			b.ReportMetric(refNs, "ref-ns/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/refNs, "encode/ref")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	text := benchText(b)
	for _, fam := range families {
		tk := load(b, fam)
		ids := tk.Encode(text, true)
		b.Run(fam, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tk.Decode(ids, false)
			}
		})
	}
}

// BenchmarkLoad times New (parse tokenizer.json + config, build the merge
// table) against a reference alternated with it: json.Valid over the same
// bytes, one scan of the document, the least any loader using encoding/json
// pays. ns/op is New alone; ref-ns/op and load/ref are reported too.
func BenchmarkLoad(b *testing.B) {
	for _, fam := range families {
		f := getFixture(b, fam)
		b.Run(fam, func(b *testing.B) {
			var ref time.Duration
			cpu0 := cpuTime(b)
			for b.Loop() {
				b.StopTimer()
				t0 := time.Now()
				require.True(b, json.Valid(f.tokenizerJSON))
				ref += time.Since(t0)
				b.StartTimer()
				_, err := tokenizer.New(f.tokenizerJSON, f.configJSON)
				require.NoError(b, err)
			}
			// CPU time (all threads, GC included) is what load costs when the
			// machine is shared; wall time then depends on the other jobs.
			cpu := cpuTime(b) - cpu0 - ref
			refNs := float64(ref.Nanoseconds()) / float64(b.N)
			b.ReportMetric(refNs, "ref-ns/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/refNs, "load/ref")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
