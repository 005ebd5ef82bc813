package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// Every kernel mode is as exact as float sums of exact products: each
// result within K·2⁻²⁴·Σ|w·x| of the float64 sum (the bound of recursive
// summation, K the width). It holds AMX-BF16 (mode 3, 16 tokens and more)
// to the FMA kernels' standard: activations spread over 2^±30 must be cut
// into all three BF16 parts, and F16 weights into two; a part dropped is an
// error of 2⁻¹⁶ or 2⁻¹¹ of a product, past the bound at these widths.
func TestMatMulExactSums(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, s := range []struct{ rows, cols, n int }{{16, 64, 16}, {40, 96, 33}, {17, 50, 20}} {
			t.Run(fmt.Sprintf("%v/%dx%d/n%d", dt, s.rows, s.cols, s.n), func(t *testing.T) {
				m, vals := randMatrix(r, dt, s.rows, s.cols)
				x := make([]float32, s.n*s.cols)
				for i := range x {
					x[i] = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(61)-30))
				}
				for _, mode := range kernels.Modes() {
					got := make([]float32, s.n*s.rows)
					kernels.MatMulMode(mode, got, x, s.n, m)
					for tk := range s.n {
						for row := range s.rows {
							var sum, abs float64
							for c := range s.cols {
								p := float64(vals[row*s.cols+c]) * float64(x[tk*s.cols+c])
								sum, abs = sum+p, abs+math.Abs(p)
							}
							bound := float64(s.cols) * math.Ldexp(abs, -24)
							require.InDelta(t, sum, float64(got[tk*s.rows+row]), bound, "mode %d, token %d, row %d", mode, tk, row)
						}
					}
				}
			})
		}
	}
}

// Infinities and NaNs in the activations give what the FMA kernels give:
// a NaN stays a NaN and an infinity an infinity of the right sign (or a
// NaN where it meets a zero weight or another infinity).
func TestMatMulSplitNonFinite(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const rows, cols, n = 16, 64, 16
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		m, _ := randMatrix(r, dt, rows, cols)
		x := make([]float32, n*cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		x[3*cols+5], x[7*cols+60] = float32(math.Inf(1)), float32(math.Inf(-1))
		x[9*cols+1] = float32(math.NaN())
		want := make([]float32, n*rows)
		kernels.MatMulMode(2, want, x, n, m)
		for _, mode := range kernels.Modes() {
			got := make([]float32, n*rows)
			kernels.MatMulMode(mode, got, x, n, m)
			for i := range want {
				w, g := float64(want[i]), float64(got[i])
				switch {
				case math.IsNaN(w):
					require.True(t, math.IsNaN(g), "%v mode %d element %d: %v", dt, mode, i, g)
				case math.IsInf(w, 0):
					require.Equal(t, w, g, "%v mode %d element %d", dt, mode, i)
				default:
					require.False(t, math.IsNaN(g) || math.IsInf(g, 0), "%v mode %d element %d: %v", dt, mode, i, g)
				}
			}
			require.True(t, slices.ContainsFunc(got, func(v float32) bool { return math.IsNaN(float64(v)) }))
		}
	}
}
