package kernels

import (
	"encoding/binary"
	"math"
)

// ggml block layouts (ggml-common.h), little-endian, no padding:
//
//	Q8_0  32 values: f16 d; int8 qs[32]                          (x = d·q)
//	Q4_0  32 values: f16 d; u8 qs[16], value j low nibble of qs[j],
//	      value j+16 high nibble                                  (x = d·(q-8))
//	Q4_K 256 values: f16 d, dmin; u8 scales[12] (8 6-bit scales and
//	      mins); u8 qs[128]                                        (x = d·sc·q - dmin·m)
//	Q5_K 256 values: as Q4_K plus u8 qh[32] (5th bits) before qs
//	Q6_K 256 values: u8 ql[128], qh[64]; int8 scales[16]; f16 d  (x = d·sc·(q-32))
//
// Activations are quantized to Q8_0 blocks for Q8_0/Q4_0 weights and to
// Q8_K blocks (f32 d; int8 qs[256]; int16 bsums[16], the sums of each 16
// values) for the K-quants, as ggml does.
const (
	qk      = 256 // values of a K-quant super-block
	q8_0B   = 34
	q4_0B   = 18
	q4_KB   = 144
	q5_KB   = 176
	q6_KB   = 210
	q8_KB   = 292
	q8_0Blk = 32
)

// Block returns the values and bytes of one block of a quantized type.
func (d DType) Block() (values, bytes int) {
	switch d {
	case Q8_0:
		return q8_0Blk, q8_0B
	case Q4_0:
		return q8_0Blk, q4_0B
	case Q4_K:
		return qk, q4_KB
	case Q5_K:
		return qk, q5_KB
	case Q6_K:
		return qk, q6_KB
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

// dequantizeRow expands one row of blocks into dst, as ggml's
// dequantize_row_* (used for embedding rows, not in the matmul).
func dequantizeRow(d DType, src []byte, dst []float32) {
	bs, bb := d.Block()
	for b := range len(dst) / bs {
		blk, y := src[b*bb:(b+1)*bb], dst[b*bs:(b+1)*bs]
		switch d {
		case Q8_0:
			s := f16At(blk, 0)
			for j := range 32 {
				y[j] = s * float32(int8(blk[2+j]))
			}
		case Q4_0:
			s := f16At(blk, 0)
			for j := range 16 {
				y[j] = s * float32(int(blk[2+j]&0xf)-8)
				y[j+16] = s * float32(int(blk[2+j]>>4)-8)
			}
		case Q4_K, Q5_K:
			dd, dm := f16At(blk, 0), f16At(blk, 2)
			sc, qh, qs := blk[4:16], blk[16:48], blk[16:]
			if d == Q5_K {
				qs = blk[48:]
			}
			for j := range 8 {
				s, m := scaleMinK4(j, sc)
				sh := uint(4 * (j & 1))
				for l := range 32 {
					q := int(qs[32*(j/2)+l] >> sh & 0xf)
					if d == Q5_K && qh[l]>>uint(j)&1 != 0 {
						q += 16
					}
					y[32*j+l] = dd*float32(s)*float32(q) - dm*float32(m)
				}
			}
		case Q6_K:
			ql, qh, sc, s := blk[:128], blk[128:192], blk[192:208], f16At(blk, 208)
			for i := range qk {
				h, l := i/128, i%128 // half, position in it
				lo := ql[64*h+l%64] >> uint(4*(l/64)) & 0xf
				hi := qh[32*h+l%32] >> uint(2*(l/32)) & 3
				y[i] = s * float32(int8(sc[8*h+l/16])) * float32(int(lo|hi<<4)-32)
			}
		}
	}
}

// quantizeActs quantizes n tokens of x (each cols wide) into dst as Q8_0
// (k false) or Q8_K blocks, like ggml's quantize_row_q8_0_ref / _q8_K_ref.
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
			if d != 0 {
				id = 1 / d
			}
			binary.LittleEndian.PutUint16(o, F32ToF16(d))
			for j, f := range v {
				o[2+j] = byte(int8(math.Round(float64(f * id))))
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
func F32ToF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	e := int(u>>23&0xff) - 127 + 15
	m := u & 0x7fffff
	switch {
	case u&0x7fffffff > 0x7f800000: // NaN
		return sign | 0x7e00
	case e >= 31: // overflow or Inf
		return sign | 0x7c00
	case e <= 0: // subnormal or zero
		if e < -10 {
			return sign
		}
		m |= 0x800000
		shift := uint(14 - e)
		h := m >> shift
		rem, half := m&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || rem == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | m>>13
	if rem := m & 0x1fff; rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++ // may carry into the exponent: still correct, up to Inf
	}
	return sign | uint16(h)
}
