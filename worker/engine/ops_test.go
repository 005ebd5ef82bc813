package engine

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// Hand-computed rotate_half values: head_dim 4, theta 10000 gives
// frequencies [1, 0.01]; dim 0 pairs with dim 2 and dim 1 with dim 3 (an
// interleaved layout would pair 0 with 1 and fail this).
func TestRopeRotateHalf(t *testing.T) {
	x := []float32{1, 0, 0, 0, 0, 2, 0, 0}
	rope(x, 2, 1, 4, 4, 1, 10000, false, make([]float32, 4))
	c1, s1 := math.Cos(1), math.Sin(1)
	c2, s2 := math.Cos(2*0.01), math.Sin(2*0.01)
	want := []float64{c1, 0, s1, 0, 0, 2 * c2, 0, 2 * s2}
	for i := range want {
		require.InDelta(t, want[i], x[i], 1e-6, "dim %d", i)
	}
	// partial rotary: only the first 2 of 4 dims rotate, pairing 0 with 1
	y := []float32{1, 0, 5, 6}
	rope(y, 1, 1, 4, 2, 1, 10000, false, make([]float32, 4))
	require.InDeltaSlice(t, []float64{c1, s1, 5, 6}, []float64{float64(y[0]), float64(y[1]), float64(y[2]), float64(y[3])}, 1e-6)
}

// The same input interleaved (llama.cpp's normal mode): dim 0 pairs with
// dim 1 and dim 2 with dim 3.
func TestRopeInterleaved(t *testing.T) {
	x := []float32{1, 0, 0, 0, 0, 0, 2, 0}
	rope(x, 2, 1, 4, 4, 1, 10000, true, make([]float32, 4))
	c1, s1 := math.Cos(1), math.Sin(1)
	c2, s2 := math.Cos(2*0.01), math.Sin(2*0.01)
	want := []float64{c1, s1, 0, 0, 0, 0, 2 * c2, 2 * s2}
	for i := range want {
		require.InDelta(t, want[i], x[i], 1e-6, "dim %d", i)
	}
}

func TestRMSNormAndSwiGLU(t *testing.T) {
	x := []float32{3, 4, 0, 0}
	out := make([]float32, 4)
	rmsNorm(out, x, []float32{1, 2, 1, 1}, 0)
	require.InDeltaSlice(t, []float32{1.2, 3.2, 0, 0}, out, 1e-6) // rms = 2.5
	g, u := []float32{0, 1, -2}, []float32{2, 3, 4}
	swiGLU(g, u)
	require.InDeltaSlice(t, []float32{0, float32(3 / (1 + math.Exp(-1))), float32(-8 / (1 + math.Exp(2)))}, g, 1e-6)
}
