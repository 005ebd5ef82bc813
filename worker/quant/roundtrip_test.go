package quant_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/quant"
)

// Round trip on 16 Ki Gaussian values (σ=1, every 97th an outlier ×8, a run
// of negatives-only and one of positives-only blocks): the relative RMS error
// must stay under a bound about 1.25× what this data measures (in the
// comments), and no element may be farther off than maxErr × its block's
// largest magnitude (the step analysis for the legacy types, measured with
// margin for the K-quants).
func TestRoundTripErrorBounds(t *testing.T) {
	for _, tc := range []struct {
		t      quant.Type
		rms    float64 // bound on RMS(err)/RMS(x)
		maxErr float64 // bound on |err| / block amax
	}{
		{quant.F32, 0, 0},
		{quant.F16, 2.6e-4, 4.9e-4},  // 2^-11 of the value; measured 2.1e-4
		{quant.BF16, 2e-3, 3.9e-3},   // 2^-8; measured 1.6e-3
		{quant.Q8_0, 1e-2, 4.5e-3},   // half a step amax/127 plus the fp16 d; measured 8.4e-3
		{quant.Q6_K, 3e-2, 0.02},     // measured 2.5e-2, worst 0.016
		{quant.Q5_1, 5.5e-2, 0.033},  // half a step (max-min)/31; measured 4.3e-2
		{quant.Q5_0, 8.5e-2, 0.0635}, // the clamped end loses a full step amax/16; measured 6.7e-2
		{quant.Q5_K, 5.5e-2, 0.04},   // measured 4.3e-2, worst 0.032
		{quant.Q4_1, 0.11, 0.068},    // half a step (max-min)/15; measured 9.0e-2
		{quant.Q4_0, 0.17, 0.126},    // the clamped end loses a full step amax/8; measured 0.134
		{quant.Q4_K, 0.105, 0.075},   // measured 8.5e-2, worst 0.058
	} {
		t.Run(tc.t.String(), func(t *testing.T) {
			x := testData(16384)
			q, err := quant.Quantize(tc.t, x)
			require.NoError(t, err)
			n, _ := tc.t.RowBytes(len(x))
			require.Len(t, q, n)
			y := make([]float32, len(x))
			require.NoError(t, quant.Dequantize(tc.t, q, y))
			var se, sx, worst float64
			bs := max(tc.t.BlockSize(), 32)
			for b := 0; b < len(x); b += bs {
				var amax float64
				for _, v := range x[b : b+bs] {
					amax = max(amax, math.Abs(float64(v)))
				}
				for i := b; i < b+bs; i++ {
					e := float64(y[i]) - float64(x[i])
					se += e * e
					sx += float64(x[i]) * float64(x[i])
					worst = max(worst, math.Abs(e)/amax)
				}
			}
			rel := math.Sqrt(se / sx)
			t.Logf("%s: relative RMS error %.3g, worst element %.3g of its block amax", tc.t, rel, worst)
			require.LessOrEqual(t, worst, tc.maxErr)
			require.LessOrEqual(t, rel, tc.rms)
		})
	}
}

func testData(n int) []float32 {
	r := rand.New(rand.NewPCG(7, 11))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		if i%97 == 0 {
			x[i] *= 8
		}
		switch i / 256 {
		case 3: // a block of negatives only
			x[i] = -float32(math.Abs(float64(x[i])))
		case 4: // a block of positives only, offset from zero
			x[i] = 3 + float32(math.Abs(float64(x[i])))
		}
	}
	return x
}

// Q8_0 is idempotent: requantizing its own output gives the same bytes.
func TestQ8_0Idempotent(t *testing.T) {
	x := testData(1024)
	q, err := quant.Quantize(quant.Q8_0, x)
	require.NoError(t, err)
	y := make([]float32, len(x))
	require.NoError(t, quant.Dequantize(quant.Q8_0, q, y))
	q2, err := quant.Quantize(quant.Q8_0, y)
	require.NoError(t, err)
	require.Equal(t, q, q2)
}
