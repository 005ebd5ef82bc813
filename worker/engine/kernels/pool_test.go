package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// Many back-to-back dispatches of one to four products (float and
// quantized, chunked rows, several pool sizes) give exactly what one
// thread computes with the same kernels: no chunk is skipped, run twice or
// taken by a thread still finishing the previous dispatch.
func TestPoolDispatches(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	best := kernels.Modes()[len(kernels.Modes())-1]
	const cols = 256 // one K-quant block per row
	type prod struct {
		m    kernels.Matrix
		want []float32
	}
	for _, workers := range []int{1, 2, 3} {
		pool := kernels.NewPool(workers)
		t.Cleanup(pool.Close)
		for i := range 200 {
			n := 1 + i%9
			x := randActs(r, n, cols)
			var ps []kernels.Product
			var prods []prod
			for j := range 1 + i%4 {
				dt := []kernels.DType{kernels.BF16, kernels.F32, kernels.Q4_K, kernels.Q8_0, kernels.F16, kernels.Q6_K}[(i+j)%6]
				rows := []int{4, 3000, 37, 129}[(i*3+j)%4]
				var m kernels.Matrix
				want := make([]float32, n*rows)
				if dt.Quantized() {
					m = randBlocks(r, dt, rows, cols)
					xq := make([]byte, n*kernels.ActRowBytes(dt, cols))
					kernels.QuantizeActsC(kernels.KActs(dt), x, n, cols, xq)
					kernels.QMatMulMode(best, want, xq, n, m)
				} else {
					m, _ = randMatrix(r, dt, rows, cols)
					kernels.MatMulMode(best, want, x, n, m)
				}
				ps = append(ps, kernels.Product{Out: make([]float32, n*rows), W: m})
				prods = append(prods, prod{m, want})
			}
			pool.MatMuls(x, n, ps...)
			for j, pr := range ps {
				require.Equal(t, prods[j].want, pr.Out, fmt.Sprintf("pool %d, dispatch %d, product %d (%v %dx%d, n %d)",
					workers, i, j, pr.W.DType, pr.W.Rows, pr.W.Cols, n))
			}
		}
	}
}

// Thousands of tiny dispatches alternating one-chunk and many-chunk jobs:
// the pattern in which a thread still leaving one job could once take a
// chunk of the next and count it twice (the pool then never finished).
func TestPoolBackToBack(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	small, _ := randMatrix(r, kernels.F32, 4, 32)
	big, _ := randMatrix(r, kernels.F32, 1<<16, 32) // 32 chunks of 2048 rows
	x := randActs(r, 1, 32)
	want := [2][]float32{make([]float32, small.Rows), make([]float32, big.Rows)}
	best := kernels.Modes()[len(kernels.Modes())-1]
	kernels.MatMulMode(best, want[0], x, 1, small)
	kernels.MatMulMode(best, want[1], x, 1, big)
	outS, outB := make([]float32, small.Rows), make([]float32, big.Rows)
	for i := range 5000 {
		clear(outS)
		pool.MatMul(outS, x, 1, small)
		require.Equal(t, want[0], outS, "dispatch %d", i)
		if i%10 == 0 {
			clear(outB)
			pool.MatMuls(x, 1, kernels.Product{Out: outB, W: big}, kernels.Product{Out: outS, W: small})
			require.Equal(t, want[1], outB, "dispatch %d", i)
		}
	}
}
