package quant_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/rbee-go/rbee/worker/quant"
)

// FuzzQuantize feeds arbitrary values (moderate and finite, as weights are)
// through every type: no panic, the right size, finite values back, and the
// legacy types within their step bound of the block's largest magnitude.
func FuzzQuantize(f *testing.F) {
	f.Add(make([]byte, 1024))
	f.Add(testBytes(testData(256)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		x := make([]float32, 256)
		for i := range x {
			if 4*i+4 <= len(raw) {
				v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
				if !math.IsNaN(float64(v)) && math.Abs(float64(v)) < 1e4 {
					x[i] = v
				}
			}
		}
		bound := map[quant.Type]float64{quant.Q8_0: 4.5e-3, quant.Q4_0: 0.126, quant.Q4_1: 0.068, quant.Q5_0: 0.0635, quant.Q5_1: 0.033}
		for _, ty := range quant.Supported() {
			q, err := quant.Quantize(ty, x)
			if err != nil {
				t.Fatal(err)
			}
			y := make([]float32, len(x))
			if err := quant.Dequantize(ty, q, y); err != nil {
				t.Fatal(err)
			}
			for b := 0; b < len(x); b += 32 {
				var amax float64
				for _, v := range x[b : b+32] {
					amax = max(amax, math.Abs(float64(v)))
				}
				for i := b; i < b+32; i++ {
					e := math.Abs(float64(y[i]) - float64(x[i]))
					if math.IsNaN(e) || math.IsInf(e, 0) {
						t.Fatalf("%s: element %d: %g -> %g", ty, i, x[i], y[i])
					}
					// fp16 scales lose relative precision below 2^-14 (subnormal d)
					if lim, ok := bound[ty]; ok && amax > 1e-3 && e > lim*amax {
						t.Fatalf("%s: element %d: %g -> %g, off by %g of amax %g", ty, i, x[i], y[i], e/amax, amax)
					}
				}
			}
		}
	})
}

func testBytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
