package matrix_test

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/rbee-go/rbee/keeper/matrix"
)

// selfCPU is this process's CPU time: the operator's side of a run over
// SSH pools (keeper, SSH client, worker client, the embedded mirror).
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runTiny runs the tiny matrix on pools; setup and teardown (sshd start,
// tiny model generation, mirror) are outside the timer. cpu is this
// process's CPU time during the run.
func runTiny(b *testing.B, pools []string) (run matrix.Run, cpu time.Duration) {
	b.StopTimer()
	r, err := matrix.Setup(context.Background(), matrix.Config{Pools: pools, Models: matrix.SetTiny, WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	cpu0 := selfCPU(b)
	run = r.Run(context.Background(), nil)
	cpu = selfCPU(b) - cpu0
	b.StopTimer()
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	for _, c := range run.Cells {
		if c.Status != matrix.Pass {
			b.Fatalf("%s on %s: %s %s", c.Model, c.Column(), c.Status, c.Reason)
		}
	}
	b.StartTimer()
	return run, cpu
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// BenchmarkMatrixPools is the matrix's scaling and overhead figure: the four
// tiny models on one harness pool, then on three at once, alternately in
// every iteration so machine load hits both alike. Reported: median wall
// time of each, the median ratio 3 pools / 1 pool (target ≤ 1.3), the
// same against three single-pool runs back to back, and the median per-cell
// overhead — cell wall time minus download, model load (spawn to ready) and
// generation (target < 500 ms). Harness pools share this machine's cores:
// the ratio measures the matrix plus that contention, not separate machines.
func BenchmarkMatrixPools(b *testing.B) {
	one := []string{"harness:cpu"}
	three := []string{"harness:cpu", "harness-2:cpu", "harness-3:cpu"}
	var wall1, wall3, ratio, seq, over1, over3, cpuCell []float64
	for b.Loop() {
		r1, _ := runTiny(b, one)
		r3, cpu3 := runTiny(b, three)
		cpuCell = append(cpuCell, float64(cpu3.Milliseconds())/float64(len(r3.Cells)))
		wall1 = append(wall1, float64(r1.WallMs))
		wall3 = append(wall3, float64(r3.WallMs))
		ratio = append(ratio, float64(r3.WallMs)/float64(r1.WallMs))
		seq = append(seq, float64(r3.WallMs)/float64(3*r1.WallMs))
		for _, c := range r1.Cells {
			over1 = append(over1, float64(c.OverheadMs))
		}
		for _, c := range r3.Cells {
			over3 = append(over3, float64(c.OverheadMs))
		}
	}
	b.ReportMetric(median(wall1), "ms-1pool")
	b.ReportMetric(median(wall3), "ms-3pools")
	b.ReportMetric(median(ratio), "x-3pools/1pool")
	// against running the three pools one after the other: the parallel
	// efficiency, which co-located pools cap by the machine's cores
	b.ReportMetric(median(seq), "x-3pools/sequential")
	// what pools on separate machines would share: the operator side
	b.ReportMetric(median(cpuCell), "operator-cpu-ms/cell")
	b.ReportMetric(median(over1), "overhead-ms/cell-1pool")
	b.ReportMetric(median(over3), "overhead-ms/cell-3pools")
}
