package matrix_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rbee-go/rbee/keeper/matrix"
)

// runTiny runs the tiny matrix on pools; setup and teardown (sshd start,
// tiny model generation, mirror) are outside the timer.
func runTiny(b *testing.B, pools []string) matrix.Run {
	b.StopTimer()
	r, err := matrix.Setup(context.Background(), matrix.Config{Pools: pools, Models: matrix.SetTiny, WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	run := r.Run(context.Background(), nil)
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
	return run
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
// time of each, the median ratio 3 pools / 1 pool (target ≤ 1.3), and the
// median per-cell overhead — cell wall time minus download, model load
// (spawn to ready) and generation (target < 500 ms).
func BenchmarkMatrixPools(b *testing.B) {
	one := []string{"harness:cpu"}
	three := []string{"harness:cpu", "harness-2:cpu", "harness-3:cpu"}
	var wall1, wall3, ratio, over1, over3 []float64
	for b.Loop() {
		r1 := runTiny(b, one)
		r3 := runTiny(b, three)
		wall1 = append(wall1, float64(r1.WallMs))
		wall3 = append(wall3, float64(r3.WallMs))
		ratio = append(ratio, float64(r3.WallMs)/float64(r1.WallMs))
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
	b.ReportMetric(median(over1), "overhead-ms/cell-1pool")
	b.ReportMetric(median(over3), "overhead-ms/cell-3pools")
}
