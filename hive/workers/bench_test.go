package workers_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

var healthyAtRE = regexp.MustCompile(`ready-signal-at (\d+)`)

func median(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkSpawnReadyLatency measures the time from the worker answering
// /health to Spawn returning (target ≤ 50 ms), for a worker that sends the
// ready callback right after serving /health (as the real worker does) and
// for one that only answers /health (found by polling).
// The double loads for 300 ms first, so the poll runs at its steady backoff.
// Reference in the same run: one loopback GET /health round trip.
func BenchmarkSpawnReadyLatency(b *testing.B) {
	for _, mode := range []string{"both", "health"} {
		b.Run(mode, func(b *testing.B) {
			f := newBenchFixture(b, mode)
			var lat, ref []time.Duration
			for b.Loop() {
				res, err := f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: freePort(b), Wait: 20 * time.Second})
				returned := time.Now()
				require.NoError(b, err)
				log, err := os.ReadFile(res.LogPath)
				require.NoError(b, err)
				m := healthyAtRE.FindSubmatch(log)
				require.NotNil(b, m, "no ready-signal-at line in %s", log)
				ns, err := strconv.ParseInt(string(m[1]), 10, 64)
				require.NoError(b, err)
				lat = append(lat, returned.Sub(time.Unix(0, ns)))

				start := time.Now()
				resp, err := http.Get(res.URI + "/health")
				require.NoError(b, err)
				resp.Body.Close()
				ref = append(ref, time.Since(start))

				_, err = f.m.Stop(context.Background(), res.ID, 5*time.Second)
				require.NoError(b, err)
			}
			b.ReportMetric(ms(median(lat)), "ms-healthy-to-return")
			b.ReportMetric(ms(median(ref)), "ms-ref-health-rtt")
			b.ReportMetric(float64(median(lat))/float64(median(ref)), "ratio")
		})
	}
}

// BenchmarkStop measures Stop of a worker that honours SIGTERM (target
// ≤ 1 s). Reference in the same run: SIGTERM and wait on a plain child
// process (sleep), the floor any stop has to pay.
func BenchmarkStop(b *testing.B) {
	f := newBenchFixture(b, "both")
	var took, ref []time.Duration
	for b.Loop() {
		b.StopTimer()
		res, err := f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: freePort(b), Wait: 20 * time.Second})
		require.NoError(b, err)
		sleep := exec.Command("sleep", "60")
		require.NoError(b, sleep.Start())
		b.Cleanup(func() { _ = sleep.Process.Kill() }) // if an assertion stops the loop early
		b.StartTimer()

		start := time.Now()
		_, err = f.m.Stop(context.Background(), res.ID, 5*time.Second)
		took = append(took, time.Since(start))
		require.NoError(b, err)

		start = time.Now()
		require.NoError(b, sleep.Process.Signal(syscall.SIGTERM))
		_ = sleep.Wait()
		ref = append(ref, time.Since(start))
	}
	b.ReportMetric(ms(median(took)), "ms-stop")
	b.ReportMetric(ms(median(ref)), "ms-ref-sigterm-wait")
	b.ReportMetric(float64(median(took))/float64(median(ref)), "ratio")
}

// newBenchFixture: the double loads for 300 ms before it serves.
func newBenchFixture(b *testing.B, mode string) *fixture {
	return newFixture(b, mode, "RBEE_WORKER_ARGS="+doubleArgs(mode, "--delay", "300ms"))
}
