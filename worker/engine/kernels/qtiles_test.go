package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// The prefill tiles against the one-token kernels (decode) in each mode:
// both sum the same exact integers per block but round in float in
// another order (TestQuantMatMul bounds each against float64); logged
// here as the largest difference relative to Σ|w·xq| of the product.
// Row ranges as the pool hands them out (multiples of 8 but the last; here
// also 4, so rows fall to the one-row tiles in between)
// give the same bits as one range.
func TestQuantTiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const rows, cols, n = 23, 512, 19
	for _, d := range qtypes {
		w := randBlocks(r, d, rows, cols)
		x := randActs(r, n, cols)
		xb := kernels.ActRowBytes(d, cols)
		xq := make([]byte, n*xb)
		kernels.QuantizeActs(kernels.KActs(d), x, n, cols, xq)
		for _, mode := range kernels.QModes() {
			got := make([]float32, n*rows)
			kernels.QMatMulMode(mode, got, xq, n, w)
			one := make([]float32, n*rows)
			for tk := range n {
				kernels.QMatMulMode(mode, one[tk*rows:(tk+1)*rows], xq[tk*xb:(tk+1)*xb], 1, w)
			}
			var worst float64
			for o := range got {
				if diff := math.Abs(float64(got[o] - one[o])); diff > 0 {
					worst = math.Max(worst, diff/absDot(d, w, xq, o/rows, o%rows))
				}
			}
			t.Logf("%v mode %d: tile vs one-token kernel, largest difference %.3g of Σ|w·xq|", d, mode, worst)
			require.Less(t, worst, float64(cols)*0x1p-23, "%v mode %d", d, mode)
			ranged := make([]float32, n*rows)
			for _, rg := range [][2]int{{0, 4}, {4, 12}, {12, 20}, {20, 23}} {
				kernels.QMatMulRange(mode, ranged, xq, n, w, rg[0], rg[1])
			}
			require.Equal(t, got, ranged, "%v mode %d: row ranges", d, mode)
		}
	}
}

// absDot is Σ|w·xq| of row r and token tk (dequantized, float64).
func absDot(d kernels.DType, w kernels.Matrix, xq []byte, tk, r int) float64 {
	k := kernels.KActs(d)
	xd := refActs(k, xq[tk*kernels.ActRowBytes(d, w.Cols):], w.Cols)
	row := make([]float32, w.Cols)
	w.Row(r, row)
	var s float64
	for i, v := range row {
		s += math.Abs(float64(v) * xd[i])
	}
	return max(s, 1e-30)
}
