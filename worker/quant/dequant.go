package quant

import (
	"encoding/binary"
	"math"

	"github.com/rbee-go/rbee/worker/safetensors"
)

// half reads a little-endian fp16 at b[0:2] with the exact half->float
// widening ggml uses (GGML_FP16_TO_FP32).
func half(b []byte) float32 { return safetensors.F16ToF32(binary.LittleEndian.Uint16(b)) }

func putHalf(b []byte, f float32) { binary.LittleEndian.PutUint16(b, safetensors.F32ToF16(f)) }

// Dequantize decodes len(dst) elements of type t from src, as ggml's
// dequantize_row_* does. len(dst) must be a multiple of the block size and
// src exactly its byte size.
func Dequantize(t Type, src []byte, dst []float32) error {
	if err := check(t, len(dst), len(src)); err != nil {
		return err
	}
	bs, ts := t.BlockSize(), t.TypeSize()
	for i := 0; i < len(dst)/bs; i++ {
		b, y := src[i*ts:(i+1)*ts], dst[i*bs:(i+1)*bs]
		switch t {
		case F32:
			y[0] = math.Float32frombits(binary.LittleEndian.Uint32(b))
		case F16:
			y[0] = half(b)
		case BF16:
			y[0] = safetensors.BF16ToF32(binary.LittleEndian.Uint16(b))
		case Q4_0:
			dequantQ4_0(b, y)
		case Q4_1:
			dequantQ4_1(b, y)
		case Q5_0:
			dequantQ5_0(b, y)
		case Q5_1:
			dequantQ5_1(b, y)
		case Q8_0:
			dequantQ8_0(b, y)
		case Q4_K:
			dequantQ4_K(b, y)
		case Q5_K:
			dequantQ5_K(b, y)
		case Q6_K:
			dequantQ6_K(b, y)
		}
	}
	return nil
}

// block_q4_0: fp16 d, qs[16]; element j is the low nibble of qs[j],
// element j+16 the high nibble, both offset by 8.
func dequantQ4_0(b []byte, y []float32) {
	d, qs := half(b), b[2:18]
	for j := 0; j < 16; j++ {
		y[j] = float32(int(qs[j]&0xf)-8) * d
		y[j+16] = float32(int(qs[j]>>4)-8) * d
	}
}

// block_q4_1: fp16 d, fp16 m, qs[16]; x = q*d + m.
func dequantQ4_1(b []byte, y []float32) {
	d, m, qs := half(b), half(b[2:]), b[4:20]
	for j := 0; j < 16; j++ {
		y[j] = float32(float32(qs[j]&0xf)*d) + m
		y[j+16] = float32(float32(qs[j]>>4)*d) + m
	}
}

// block_q5_0: fp16 d, qh[4] (bit j = 5th bit of element j), qs[16]; offset 16.
func dequantQ5_0(b []byte, y []float32) {
	d, qh, qs := half(b), binary.LittleEndian.Uint32(b[2:]), b[6:22]
	for j := 0; j < 16; j++ {
		h0 := byte(qh>>j<<4) & 0x10
		h1 := byte(qh>>(j+12)) & 0x10
		y[j] = float32(int(qs[j]&0xf|h0)-16) * d
		y[j+16] = float32(int(qs[j]>>4|h1)-16) * d
	}
}

// block_q5_1: fp16 d, fp16 m, qh[4], qs[16]; x = q*d + m.
func dequantQ5_1(b []byte, y []float32) {
	d, m, qh, qs := half(b), half(b[2:]), binary.LittleEndian.Uint32(b[4:]), b[8:24]
	for j := 0; j < 16; j++ {
		h0 := byte(qh>>j<<4) & 0x10
		h1 := byte(qh>>(j+12)) & 0x10
		y[j] = float32(float32(qs[j]&0xf|h0)*d) + m
		y[j+16] = float32(float32(qs[j]>>4|h1)*d) + m
	}
}

// block_q8_0: fp16 d, int8 qs[32].
func dequantQ8_0(b []byte, y []float32) {
	d := half(b)
	for j := 0; j < 32; j++ {
		y[j] = float32(int8(b[2+j])) * d
	}
}

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j from the
// 12-byte packed scales of block_q4_K/q5_K (ggml's get_scale_min_k4).
func scaleMinK4(j int, q []byte) (sc, m byte) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// subBlockK4 is the effective scale and min of sub-block j.
func subBlockK4(j int, scales []byte, d, dmin float32) (float32, float32) {
	sc, m := scaleMinK4(j, scales)
	return d * float32(sc), dmin * float32(m)
}

// block_q4_K: fp16 d, fp16 dmin, scales[12], qs[128]; each 64 elements share
// 32 bytes of qs (low nibbles first, then high), x = d*sc*q - dmin*m.
func dequantQ4_K(b []byte, y []float32) {
	d, dmin, scales, qs := half(b), half(b[2:]), b[4:16], b[16:144]
	for j, is := 0, 0; j < QK_K; j, is = j+64, is+2 {
		d1, m1 := subBlockK4(is, scales, d, dmin)
		d2, m2 := subBlockK4(is+1, scales, d, dmin)
		q := qs[j/2 : j/2+32]
		for l := 0; l < 32; l++ {
			y[j+l] = float32(d1*float32(q[l]&0xf)) - m1
			y[j+32+l] = float32(d2*float32(q[l]>>4)) - m2
		}
	}
}

// block_q5_K: fp16 d, fp16 dmin, scales[12], qh[32], qs[128]; the 5th bit of
// element n*64+l is bit 2n of qh[l], of n*64+32+l bit 2n+1.
func dequantQ5_K(b []byte, y []float32) {
	d, dmin, scales, qh, qs := half(b), half(b[2:]), b[4:16], b[16:48], b[48:176]
	u1, u2 := byte(1), byte(2)
	for j, is := 0, 0; j < QK_K; j, is = j+64, is+2 {
		d1, m1 := subBlockK4(is, scales, d, dmin)
		d2, m2 := subBlockK4(is+1, scales, d, dmin)
		ql := qs[j/2 : j/2+32]
		for l := 0; l < 32; l++ {
			lo, hi := ql[l]&0xf, ql[l]>>4
			if qh[l]&u1 != 0 {
				lo += 16
			}
			if qh[l]&u2 != 0 {
				hi += 16
			}
			y[j+l] = float32(d1*float32(lo)) - m1
			y[j+32+l] = float32(d2*float32(hi)) - m2
		}
		u1 <<= 2
		u2 <<= 2
	}
}

// block_q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16],
// fp16 d; offset 32, x = d*scale*q.
func dequantQ6_K(b []byte, y []float32) {
	ql, qh, sc, d := b[0:128], b[128:192], b[192:208], half(b[208:])
	for n := 0; n < 2; n++ {
		l4, h, s, out := ql[64*n:], qh[32*n:], sc[8*n:], y[128*n:]
		for l := 0; l < 32; l++ {
			is := l / 16
			q1 := int(l4[l]&0xf|(h[l]>>0&3)<<4) - 32
			q2 := int(l4[l+32]&0xf|(h[l]>>2&3)<<4) - 32
			q3 := int(l4[l]>>4|(h[l]>>4&3)<<4) - 32
			q4 := int(l4[l+32]>>4|(h[l]>>6&3)<<4) - 32
			out[l] = d * float32(int8(s[is])) * float32(q1)
			out[l+32] = d * float32(int8(s[is+2])) * float32(q2)
			out[l+64] = d * float32(int8(s[is+4])) * float32(q3)
			out[l+96] = d * float32(int8(s[is+6])) * float32(q4)
		}
	}
}
