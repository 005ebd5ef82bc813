package kernels_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// randMatrix builds a rows×cols matrix of dtype with values in [-1,1) and
// returns the exact F32 values it holds.
func randMatrix(r *rand.Rand, dtype kernels.DType, rows, cols int) (kernels.Matrix, []float32) {
	vals := make([]float32, rows*cols)
	data := make([]byte, rows*cols*dtype.Size())
	for i := range vals {
		f := float32(r.Float64()*2 - 1)
		switch dtype {
		case kernels.F32:
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(f))
		case kernels.BF16:
			b := uint16(math.Float32bits(f) >> 16) // truncation is fine: vals hold the exact value
			binary.LittleEndian.PutUint16(data[2*i:], b)
			f = kernels.BF16ToF32(b)
		case kernels.F16:
			h := toF16(f)
			binary.LittleEndian.PutUint16(data[2*i:], h)
			f = kernels.F16ToF32(h)
		}
		vals[i] = f
	}
	m, err := kernels.NewMatrix(dtype, rows, cols, data)
	if err != nil {
		panic(err)
	}
	return m, vals
}

// toF16 truncates a value in [-1,1) to half precision (normal range or zero).
func toF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	exp := int(u>>23&0xff) - 127 + 15
	if exp <= 0 {
		return sign
	}
	return sign | uint16(exp)<<10 | uint16(u>>13&0x3ff)
}

// reference is the plain triple loop in float64.
func reference(w []float32, rows, cols int, x []float32, n int) []float32 {
	out := make([]float32, n*rows)
	for t := range n {
		for r := range rows {
			var s float64
			for c := range cols {
				s += float64(w[r*cols+c]) * float64(x[t*cols+c])
			}
			out[t*rows+r] = float32(s)
		}
	}
	return out
}

func TestMatMul(t *testing.T) {
	pool := kernels.NewPool(3)
	t.Cleanup(pool.Close)
	t.Logf("kernels: %s, modes %v", kernels.Accelerated(), kernels.Modes())
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []struct{ rows, cols, n int }{
		{1, 1, 1}, {3, 7, 1}, {4, 16, 1}, {5, 17, 2}, {17, 33, 3}, {9, 15, 4},
		{64, 100, 5}, {130, 64, 7}, {33, 257, 1}, {300, 2048, 1}, {7, 48, 10},
		{600, 900, 2}, {13, 40, 13}, {8, 2048, 12}, {4, 31, 6},
		// every remainder after 6-token tiles, and one after a 30-token block
		{9, 40, 8}, {12, 40, 9}, {8, 33, 11}, {8, 2048, 35},
		// decode of wide rows, with row and column tails
		{20, 5632, 1}, {13, 4100, 2}, {8, 3088, 1}, {17, 6150, 4},
		// AMX-BF16 (16 tokens and more): row and token groups of 16 with
		// tails, values past a block of 512 and a width not of 32
		{16, 32, 16}, {33, 70, 17}, {100, 1000, 37}, {64, 2048, 48}, {5, 600, 129},
	}
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16, kernels.BF16} {
		for _, s := range sizes {
			t.Run(fmt.Sprintf("%v/%dx%d/n%d", dt, s.rows, s.cols, s.n), func(t *testing.T) {
				m, vals := randMatrix(r, dt, s.rows, s.cols)
				x := make([]float32, s.n*s.cols)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				want := reference(vals, s.rows, s.cols, x, s.n)
				tol := 1e-4 * math.Sqrt(float64(s.cols))
				got := make([]float32, s.n*s.rows)
				pool.MatMul(got, x, s.n, m)
				requireClose(t, want, got, tol, "pool")
				goGot := make([]float32, s.n*s.rows)
				kernels.GoMatMulRows(m, x, s.n, goGot, s.rows, 0, s.rows)
				requireClose(t, want, goGot, tol, "go")
				for _, mode := range kernels.Modes() {
					modeGot := make([]float32, s.n*s.rows)
					kernels.MatMulMode(mode, modeGot, x, s.n, m)
					requireClose(t, want, modeGot, tol, fmt.Sprintf("mode %d", mode))
				}
			})
		}
	}
}

// MatMuls with mixed dtypes and sizes equals one MatMul per product.
func TestMatMuls(t *testing.T) {
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	r := rand.New(rand.NewPCG(7, 7))
	const cols = 300
	for _, n := range []int{1, 7} {
		x := make([]float32, n*cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		var ps []kernels.Product
		var wants [][]float32
		for i, dt := range []kernels.DType{kernels.BF16, kernels.F32, kernels.F16, kernels.BF16} {
			rows := []int{5, 900, 64, 1}[i]
			m, vals := randMatrix(r, dt, rows, cols)
			ps = append(ps, kernels.Product{Out: make([]float32, n*rows), W: m})
			wants = append(wants, reference(vals, rows, cols, x, n))
		}
		pool.MatMuls(x, n, ps...)
		for i, pr := range ps {
			requireClose(t, wants[i], pr.Out, 1e-3, fmt.Sprintf("n%d product %d", n, i))
		}
	}
}

func requireClose(t *testing.T, want, got []float32, tol float64, what string) {
	t.Helper()
	for i := range want {
		require.InDelta(t, want[i], got[i], tol, "%s: element %d", what, i)
	}
}

func TestRowSliceAndToF32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16, kernels.BF16} {
		m, vals := randMatrix(r, dt, 6, 5)
		sub := m.RowSlice(2, 5)
		require.Equal(t, 3, sub.Rows)
		row := make([]float32, 5)
		sub.Row(1, row)
		require.Equal(t, vals[3*5:4*5], row, "%v row 3", dt)
	}
	_, err := kernels.NewMatrix(kernels.BF16, 2, 3, make([]byte, 5))
	require.ErrorContains(t, err, "needs 12 bytes")
}

func TestF16ToF32(t *testing.T) {
	cases := []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x0000, 0}, {0x7bff, 65504}, {0x0001, 5.960464477539063e-08},
		{0x7c00, float32(math.Inf(1))}, {0x3555, 0.333251953125},
	}
	for _, c := range cases {
		require.Equal(t, c.want, kernels.F16ToF32(c.h), "%#04x", c.h)
	}
}

func TestStreamRead(t *testing.T) {
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	for _, n := range []int{0, 1, 31, 32, 1000, 9<<20 + 13} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + i>>8)
		}
		// chunks are multiples of 8 bytes, so the checksum is the sum of all
		// little-endian words plus the bytes of the final partial word
		var want uint64
		i := 0
		for ; i+8 <= n; i += 8 {
			want += binary.LittleEndian.Uint64(b[i:])
		}
		for ; i < n; i++ {
			want += uint64(b[i])
		}
		require.Equal(t, want, pool.StreamRead(b), "n=%d", n)
	}
}

func TestPoolFor(t *testing.T) {
	pool := kernels.NewPool(4)
	t.Cleanup(pool.Close)
	seen := make([]int, 1003)
	pool.For(len(seen), 10, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			seen[i]++
		}
	})
	for i, v := range seen {
		require.Equal(t, 1, v, "index %d", i)
	}
}

// Decode of wide rows (prefetched, chunked across workers) gives each row
// the one-row kernel's sum, bit for bit.
func TestDecodeWideRowsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16, kernels.BF16} {
		m, _ := randMatrix(r, dt, 19, 5640)
		x := make([]float32, m.Cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, mode := range kernels.Modes() {
			got := make([]float32, m.Rows)
			kernels.MatMulMode(mode, got, x, 1, m)
			for row := range m.Rows {
				one := make([]float32, 1)
				kernels.MatMulMode(mode, one, x, 1, m.RowSlice(row, row+1))
				require.Equal(t, one[0], got[row], "%v mode %d row %d", dt, mode, row)
			}
		}
	}
}
