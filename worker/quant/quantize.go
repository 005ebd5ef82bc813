package quant

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rbee-go/rbee/worker/safetensors"
)

// Float arithmetic here is float32 as in ggml's C. Products that feed a sum
// are wrapped in float32(...) so the Go compiler never fuses them into an
// FMA (which rounds once and would change bits on arm64).

// Quantize encodes src as type t exactly as ggml's quantize_row_*_ref does
// (the reference quantizers, without an importance matrix). len(src) must be
// a multiple of the block size.
func Quantize(t Type, src []float32) ([]byte, error) {
	if !t.Supported() {
		return nil, fmt.Errorf("%w %s (supported: %s)", ErrUnsupportedType, t, SupportedNames())
	}
	n, err := t.RowBytes(len(src))
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	bs, ts := t.BlockSize(), t.TypeSize()
	for i := 0; i < len(src)/bs; i++ {
		x, b := src[i*bs:(i+1)*bs], out[i*ts:(i+1)*ts]
		switch t {
		case F32:
			binary.LittleEndian.PutUint32(b, math.Float32bits(x[0]))
		case F16:
			putHalf(b, x[0])
		case BF16:
			binary.LittleEndian.PutUint16(b, safetensors.F32ToBF16(x[0]))
		case Q4_0:
			quantQ4_0(x, b)
		case Q4_1:
			quantQ4_1(x, b)
		case Q5_0:
			quantQ5_0(x, b)
		case Q5_1:
			quantQ5_1(x, b)
		case Q8_0:
			quantQ8_0(x, b)
		case Q4_K:
			quantQ4_K(x, b)
		case Q5_K:
			quantQ5_K(x, b)
		case Q6_K:
			quantQ6_K(x, b)
		}
	}
	return out, nil
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// truncInt is C's float->int conversion (toward zero) for in-range values.
func truncInt(f float32) int { return int(f) }

// signedMax returns the element of largest magnitude, keeping its sign (the
// first one on ties), as the symmetric ggml quantizers pick it.
func signedMax(x []float32) (amax, max float32) {
	for _, v := range x {
		if amax < abs32(v) {
			amax, max = abs32(v), v
		}
	}
	return amax, max
}

// affineHeader writes the fp16 d = (max-min)/levels and m = min of
// block_q4_1/q5_1 and returns min and 1/d (of the unrounded d, as ggml).
func affineHeader(x []float32, levels float32, b []byte) (lo, id float32) {
	lo, hi := minMax(x)
	d := (hi - lo) / levels
	putHalf(b, d)
	putHalf(b[2:], lo)
	return lo, inverse(d)
}

func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x { // not min/max: C's comparisons keep the first of 0 and -0
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

func inverse(d float32) float32 {
	if d != 0 {
		return 1 / d
	}
	return 0
}

func quantQ4_0(x []float32, b []byte) {
	_, mx := signedMax(x)
	d := mx / -8
	id := inverse(d)
	putHalf(b, d)
	for j := 0; j < 16; j++ {
		q0 := min(15, truncInt(float32(x[j]*id)+8.5))
		q1 := min(15, truncInt(float32(x[j+16]*id)+8.5))
		b[2+j] = byte(q0) | byte(q1)<<4
	}
}

func quantQ4_1(x []float32, b []byte) {
	lo, id := affineHeader(x, 15, b)
	for j := 0; j < 16; j++ {
		q0 := min(15, truncInt(float32((x[j]-lo)*id)+0.5))
		q1 := min(15, truncInt(float32((x[j+16]-lo)*id)+0.5))
		b[4+j] = byte(q0) | byte(q1)<<4
	}
}

// put5 stores 32 5-bit values as block_q5_*'s qs (low nibbles) and qh (bit j
// = 5th bit of element j).
func put5(q *[32]int, qh, qs []byte) {
	var h uint32
	for j := 0; j < 16; j++ {
		qs[j] = byte(q[j]&0xf) | byte(q[j+16]&0xf)<<4
		h |= uint32(q[j]&0x10) >> 4 << j
		h |= uint32(q[j+16]&0x10) >> 4 << (j + 16)
	}
	binary.LittleEndian.PutUint32(qh, h)
}

func quantQ5_0(x []float32, b []byte) {
	_, mx := signedMax(x)
	d := mx / -16
	id := inverse(d)
	putHalf(b, d)
	var q [32]int
	for j := range q {
		q[j] = min(31, truncInt(float32(x[j]*id)+16.5))
	}
	put5(&q, b[2:6], b[6:22])
}

func quantQ5_1(x []float32, b []byte) {
	lo, id := affineHeader(x, 31, b)
	var q [32]int
	for j := range q {
		q[j] = int(uint8(truncInt(float32((x[j]-lo)*id) + 0.5))) // ggml: (uint8_t)(x0 + 0.5f), no clamp
	}
	put5(&q, b[4:8], b[8:24])
}

func quantQ8_0(x []float32, b []byte) {
	var amax float32
	for _, v := range x {
		if a := abs32(v); a > amax { // ggml's MAX(amax, fabsf(v))
			amax = a
		}
	}
	d := amax / 127
	id := inverse(d)
	putHalf(b, d)
	for j, v := range x {
		b[2+j] = byte(int8(math.Round(float64(v * id)))) // roundf: half away from zero
	}
}
