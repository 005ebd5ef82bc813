package engine

import (
	"math"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// rmsNorm writes w ⊙ x / sqrt(mean(x²) + eps) for each row of width len(w).
func rmsNorm(dst, x, w []float32, eps float64) {
	d := len(w)
	for r := 0; r+d <= len(x); r += d {
		xr, dr := x[r:r+d], dst[r:r+d]
		// rounded as ggml's rms_norm_f32: float squares summed in double,
		// the mean, its sum with eps and 1/sqrt in float. A scale one ulp
		// off moves activations that quantize on an exact half (few-bit
		// values: an embedding row of a quantized file) to the other side.
		var ss float64
		for _, v := range xr {
			ss += float64(v * v)
		}
		mean := float32(ss / float64(d))
		scale := 1 / float32(math.Sqrt(float64(mean+float32(eps))))
		for i, v := range xr {
			dr[i] = w[i] * (v * scale)
		}
	}
}

// addBias adds b to every row of x.
func addBias(x, b []float32) {
	if b == nil {
		return
	}
	for r := 0; r+len(b) <= len(x); r += len(b) {
		xr := x[r : r+len(b)]
		for i, v := range b {
			xr[i] += v
		}
	}
}

// addInto does x += y.
func addInto(x, y []float32) {
	for i, v := range y[:len(x)] {
		x[i] += v
	}
}

// rope rotates the first rotaryDim dims of every head of n rows of x (row
// width heads×headDim) at positions pos0... Pair i (frequency
// theta^(-2i/rotaryDim)) is dims (i, i+rotaryDim/2) in the Hugging Face
// "rotate_half" layout (llama.cpp's NEOX mode), or the adjacent dims
// (2i, 2i+1) when interleaved (llama.cpp's normal mode, which GGUF llama
// files need: their q/k rows are not permuted the HF way).
// cs is scratch of len ≥ rotaryDim.
func rope(x []float32, n, heads, headDim, rotaryDim, pos0 int, theta float64, interleaved bool, cs []float32) {
	half := rotaryDim / 2
	cos, sin := cs[:half], cs[half:rotaryDim]
	width := heads * headDim
	lo, hi, step := 0, half, 1 // dims of pair i: lo+i·step, hi+i·step
	if interleaved {
		lo, hi, step = 0, 1, 2
	}
	for t := range n {
		p := float64(pos0 + t)
		for i := range half {
			a := p * math.Pow(theta, -float64(2*i)/float64(rotaryDim))
			cos[i], sin[i] = float32(math.Cos(a)), float32(math.Sin(a))
		}
		row := x[t*width : (t+1)*width]
		for h := range heads {
			v := row[h*headDim : h*headDim+rotaryDim]
			for i := range half {
				j, k := lo+i*step, hi+i*step
				a, b := v[j], v[k]
				v[j] = a*cos[i] - b*sin[i]
				v[k] = b*cos[i] + a*sin[i]
			}
		}
	}
}

// swiGLU writes silu(gate) ⊙ up into gate.
func swiGLU(gate, up []float32) { kernels.SwiGLU(gate, up) }
