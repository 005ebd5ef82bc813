package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// ggml block layouts (ggml-common.h), little-endian, no padding:
//
//	Q8_0  32 values: f16 d; int8 qs[32]                          (x = d·q)
//	Q4_0  32 values: f16 d; u8 qs[16], value j low nibble of qs[j],
//	      value j+16 high nibble                                  (x = d·(q-8))
//	Q5_0  32 values: f16 d; u8 qh[4] (bit j: value j's 5th bit); qs[16]
//	      as Q4_0                                                 (x = d·(q-16))
//	Q4_K 256 values: f16 d, dmin; u8 scales[12] (8 6-bit scales and
//	      mins); u8 qs[128]                                        (x = d·sc·q - dmin·m)
//	Q5_K 256 values: as Q4_K plus u8 qh[32] (5th bits) before qs
//	Q6_K 256 values: u8 ql[128], qh[64]; int8 scales[16]; f16 d  (x = d·sc·(q-32))
//
// Activations are quantized to Q8_0 blocks for Q8_0/Q4_0/Q5_0 weights and to
// Q8_K blocks (f32 d; int8 qs[256]; int16 bsums[16], the sums of each 16
// values) for the K-quants, as ggml does.
const (
	qk      = quant.QK_K // values of a K-quant super-block
	q8_0B   = 34         // bytes of a Q8_0 block
	q8_KB   = 292        // bytes of a Q8_K block
	q8_0Blk = 32         // values of a Q8_0 block
)

// Block returns the values and bytes of one block (1 and the element size
// for a float type).
func (d DType) Block() (values, bytes int) {
	if t, ok := d.QuantType(); ok {
		return t.BlockSize(), t.TypeSize()
	}
	return 1, d.Size()
}

// kActs reports whether d's activations are Q8_K (else Q8_0).
func (d DType) kActs() bool { return d == Q4_K || d == Q5_K || d == Q6_K }

// actRowBytes is the bytes of one token's quantized activations for d.
func actRowBytes(d DType, cols int) int {
	if d.kActs() {
		return cols / qk * q8_KB
	}
	return cols / q8_0Blk * q8_0B
}

func f16At(b []byte, i int) float32 { return F16ToF32(binary.LittleEndian.Uint16(b[i:])) }

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j (ggml's
// get_scale_min_k4).
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// QuantType is the ggml type of a quantized DType (0, false for float ones).
func (d DType) QuantType() (quant.Type, bool) {
	if !d.Quantized() {
		return 0, false
	}
	return ggmlTypes[d-Q8_0], true
}

var ggmlTypes = [...]quant.Type{quant.Q8_0, quant.Q4_0, quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.Q5_0}

// FromQuant returns the DType whose rows the kernels multiply directly for
// a ggml type; ok is false for the types that must be dequantized first.
func FromQuant(t quant.Type) (DType, bool) {
	switch t {
	case quant.F32:
		return F32, true
	case quant.F16:
		return F16, true
	case quant.BF16:
		return BF16, true
	}
	for i, g := range ggmlTypes {
		if g == t {
			return Q8_0 + DType(i), true
		}
	}
	return 0, false
}

// dequantizeRow expands one row of blocks into dst with the reference
// decoder (used for embedding rows, not in the matmul).
func dequantizeRow(d DType, src []byte, dst []float32) {
	t, _ := d.QuantType()
	if err := quant.Dequantize(t, src, dst); err != nil {
		panic(fmt.Sprintf("kernels: row of %v: %v", d, err)) // NewMatrix checked the sizes
	}
}

// quantizeActs quantizes n tokens of x (each cols wide) into dst as Q8_0
// (k false) or Q8_K blocks, like the quantizers llama.cpp runs on x86:
// quantize_row_q8_0 (scale 127/amax, ties to even; ggml's _ref takes
// 1/(amax/127) and rounds halves away, one unit apart on some values,
// which moved tiny-llama's logits 0.1 from llama.cpp's) and
// quantize_row_q8_K_ref.
func quantizeActs(k bool, x []float32, n, cols int, dst []byte) {
	bs, bb := q8_0Blk, q8_0B
	if k {
		bs, bb = qk, q8_KB
	}
	nb := n * cols / bs
	for b := range nb {
		v, o := x[b*bs:(b+1)*bs], dst[b*bb:(b+1)*bb]
		var amax, mx float32
		for _, f := range v {
			if a := abs32(f); a > amax {
				amax, mx = a, f
			}
		}
		if !k {
			d := amax / 127
			id := float32(0)
			if amax != 0 {
				id = 127 / amax
			}
			binary.LittleEndian.PutUint16(o, F32ToF16(d))
			for j, f := range v {
				o[2+j] = byte(int8(math.RoundToEven(float64(f * id))))
			}
			continue
		}
		clear(o)
		if amax == 0 {
			continue
		}
		is := -127 / mx
		binary.LittleEndian.PutUint32(o, math.Float32bits(1/is))
		for j, f := range v {
			q := min(127, int(math.RoundToEven(float64(is*f))))
			o[4+j] = byte(int8(q))
		}
		for g := range 16 {
			var s int16
			for _, q := range o[4+16*g : 4+16*g+16] {
				s += int16(int8(q))
			}
			binary.LittleEndian.PutUint16(o[260+2*g:], uint16(s))
		}
	}
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// F32ToF16 rounds f to the nearest half-precision value (ties to even),
// as F16C's vcvtps2ph does.
func F32ToF16(f float32) uint16 { return safetensors.F32ToF16(f) }
