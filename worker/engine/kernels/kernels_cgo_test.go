//go:build cgo

package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// TestScalarC covers the C loop that CPUs without AVX2 (and arm64) run.
func TestScalarC(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16, kernels.BF16} {
		for _, s := range []struct{ rows, cols, n int }{{1, 1, 1}, {5, 17, 3}, {9, 1100, 2}} {
			t.Run(fmt.Sprintf("%v/%dx%d/n%d", dt, s.rows, s.cols, s.n), func(t *testing.T) {
				m, vals := randMatrix(r, dt, s.rows, s.cols)
				x := make([]float32, s.n*s.cols)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				got := make([]float32, s.n*s.rows)
				kernels.ScalarCMatMulRows(m, x, s.n, got, s.rows, 0, s.rows)
				requireClose(t, reference(vals, s.rows, s.cols, x, s.n), got, 1e-4*math.Sqrt(float64(s.cols)), "c scalar")
			})
		}
	}
}
