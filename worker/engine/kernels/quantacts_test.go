package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// tieBlock fills v (one Q8_0 or Q8_K block) so that x·id (Q8_0) and is·x
// (Q8_K) hit exact halves n + 0.5, where the rounding rule decides:
// with a max of ±127·2^e the scales are powers of two. Odd blocks use an
// arbitrary max and search each value's neighbours for a product that is
// exactly a half under the scale the quantizer will compute.
func tieBlock(r *rand.Rand, v []float32, k bool) {
	e := r.IntN(40) - 20
	mx := float32(math.Ldexp(127, e)) * float32(1-2*r.IntN(2))
	arbitrary := r.IntN(2) == 0
	if arbitrary {
		mx = float32(r.NormFloat64() * 10)
	}
	v[r.IntN(len(v))] = mx
	amax := float32(math.Abs(float64(mx)))
	// the scales as quant.go computes them
	id, is := 127/amax, -127/mx
	for j := range v {
		if v[j] == mx {
			continue
		}
		h := float64(r.IntN(254)-127) + 0.5 // -126.5 .. 126.5
		x := float32(math.Ldexp(h, e))
		if arbitrary {
			x = float32(h / float64(id))
			for _, c := range []float32{x, math.Nextafter32(x, 0), math.Nextafter32(x, 2*x)} {
				if p := c * id; k && float64(c*is) == -h || !k && float64(p) == h {
					x = c
				}
			}
		}
		if math.Abs(float64(x)) > float64(amax) {
			x = 0
		}
		v[j] = x
	}
}

// quantActInputs: n×cols activations, each block of bs values of one kind.
func quantActInputs(r *rand.Rand, n, cols int, k bool) []float32 {
	bs := 32
	if k {
		bs = 256
	}
	x := make([]float32, n*cols)
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for b := 0; b < len(x); b += bs {
		v := x[b : b+bs]
		kind := r.IntN(12)
		switch kind {
		case 0: // zeros, some negative
			for j := range v {
				v[j] = float32(math.Copysign(0, float64(r.IntN(2)-1)))
			}
		case 1, 2:
			tieBlock(r, v, k)
		case 3: // huge: near the float32 max, and a max whose f16 d overflows
			for j := range v {
				v[j] = float32(r.NormFloat64() * math.Pow(10, float64(30+r.IntN(9))))
			}
			v[r.IntN(bs)] = math.MaxFloat32
		case 4: // tiny: down to subnormals (1/d overflows to inf)
			s := math.Pow(10, -float64(30+r.IntN(16)))
			for j := range v {
				v[j] = float32(r.NormFloat64() * s)
			}
		case 5: // a negative max, and its positive twin after it (the first wins)
			for j := range v {
				v[j] = float32(r.Float64())
			}
			i := r.IntN(bs - 1)
			v[i], v[i+1+r.IntN(bs-1-i)] = -3, 3
		case 6: // the positive twin first
			for j := range v {
				v[j] = float32(r.Float64())
			}
			i := r.IntN(bs - 1)
			v[i], v[i+1+r.IntN(bs-1-i)] = 3, -3
		case 7: // NaN and infinities in a block (the max skips NaN)
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
			v[r.IntN(bs)], v[r.IntN(bs)] = nan, []float32{inf, -inf, nan, 1e20}[r.IntN(4)]
		case 8: // a single nonzero value
			clear(v)
			v[r.IntN(bs)] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(13)-6)))
		default: // ordinary, 1e±3 between blocks
			s := math.Pow(10, float64(r.IntN(7)-3))
			for j := range v {
				v[j] = float32(r.NormFloat64() * s)
			}
		}
	}
	return x
}

// Every C mode writes the Go quantizer's bytes exactly (block scales,
// values, Q8_K group sums), token counts and widths around the blocks.
func TestQuantizeActsModes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, k := range []bool{false, true} {
		d := map[bool]kernels.DType{false: kernels.Q8_0, true: kernels.Q4_K}[k]
		for _, s := range []struct{ n, cols int }{{1, 256}, {3, 512}, {64, 2048}, {200, 768}} {
			x := quantActInputs(r, s.n, s.cols, k)
			rb := kernels.ActRowBytes(d, s.cols)
			want := make([]byte, s.n*rb)
			kernels.QuantizeActs(k, x, s.n, s.cols, want)
			for _, mode := range kernels.Modes() {
				t.Run(fmt.Sprintf("k%v/%dx%d/mode%d", k, s.n, s.cols, mode), func(t *testing.T) {
					got := make([]byte, s.n*rb+1)
					got[len(got)-1] = 0xa5
					for i := range got[:len(got)-1] {
						got[i] = byte(r.Uint32()) // a zero block must clear its bytes
					}
					kernels.QuantizeActsMode(mode, k, x, s.n, s.cols, got)
					require.Equal(t, byte(0xa5), got[len(got)-1], "written past the blocks")
					got = got[:len(got)-1]
					bs, bb := 32, 34
					if k {
						bs, bb = 256, 292
					}
					for b := range len(want) / bb {
						require.Equal(t, want[b*bb:(b+1)*bb], got[b*bb:(b+1)*bb], "block %d of %v", b, x[b*bs:(b+1)*bs])
					}
				})
			}
		}
	}
}

// Hand-picked ties: both go to even (nearbyintf, as llama.cpp's x86
// quantize_row_q8_0 and quantize_row_q8_K_ref); the max's sign and
// first-of-equals decide Q8_K's scale.
func TestQuantizeActsTies(t *testing.T) {
	q8_0 := make([]float32, 32)
	q8_0[0] = 127 // d = 1, id = 1
	copy(q8_0[1:], []float32{0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 0.49999997, -0.49999997})
	q8_K := make([]float32, 256)
	q8_K[0] = -127 // is = 1
	q8_K[1] = 127  // not the max: the first of equal magnitude is
	copy(q8_K[2:], []float32{0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5})
	for _, c := range []struct {
		k    bool
		x    []float32
		off  int
		want []int8
	}{
		{false, q8_0, 2, []int8{127, 0, 0, 2, -2, 2, -2, 126, -126, 0, 0}},
		{true, q8_K, 4, []int8{-127, 127, 0, -0, 2, -2, 2, -2, 126, -126}},
	} {
		for _, mode := range kernels.Modes() {
			rb := kernels.ActRowBytes(map[bool]kernels.DType{false: kernels.Q8_0, true: kernels.Q6_K}[c.k], len(c.x))
			got, ref := make([]byte, rb), make([]byte, rb)
			kernels.QuantizeActsMode(mode, c.k, c.x, 1, len(c.x), got)
			kernels.QuantizeActs(c.k, c.x, 1, len(c.x), ref)
			require.Equal(t, ref, got, "k %v mode %d", c.k, mode)
			for i, w := range c.want {
				require.Equal(t, w, int8(got[c.off+i]), "k %v mode %d: value %g", c.k, mode, c.x[i])
			}
		}
	}
}
