package kernels

import (
	"encoding/binary"
	"math"
)

// goQMatMulRows is the portable quantized kernel: rows [r0,r1) of out for
// n tokens of activations xq quantized for w.DType (see quantizeActs), with
// integer dot products per block as ggml's generic vec_dot_*.
func goQMatMulRows(w Matrix, xq []byte, n int, out []float32, ldo, r0, r1 int) {
	rb, xb := w.rowBytes(), actRowBytes(w.DType, w.Cols)
	for r := r0; r < r1; r++ {
		row := w.Data[r*rb : (r+1)*rb]
		for t := range n {
			out[t*ldo+r] = goVecDot(w.DType, row, xq[t*xb:(t+1)*xb])
		}
	}
}

func goVecDot(d DType, w, x []byte) float32 {
	_, bb := d.Block()
	xbb := q8_0B
	if d.kActs() {
		xbb = q8_KB
	}
	var sum float32
	for b := range len(w) / bb {
		sum += goBlockDot(d, w[b*bb:(b+1)*bb], x[b*xbb:(b+1)*xbb])
	}
	return sum
}

func goBlockDot(d DType, w, x []byte) float32 {
	switch d {
	case Q8_0, Q4_0, Q5_0:
		var s int32
		for j := range 32 {
			s += q32(d, w, j) * int32(int8(x[2+j]))
		}
		return float32(s) * (f16At(w, 0) * f16At(x, 0))
	}
	xd := math.Float32frombits(binary.LittleEndian.Uint32(x))
	q8 := x[4:260]
	if d == Q6_K {
		var s int32
		for g := range 16 {
			var gs int32
			for i := 16 * g; i < 16*g+16; i++ {
				h, l := i/128, i%128
				lo := w[64*h+l%64] >> uint(4*(l/64)) & 0xf
				hi := w[128+32*h+l%32] >> uint(2*(l/32)) & 3
				gs += (int32(lo|hi<<4) - 32) * int32(int8(q8[i]))
			}
			s += gs * int32(int8(w[192+g]))
		}
		return xd * f16At(w, 208) * float32(s)
	}
	sc, qh, qs := w[4:16], w[16:48], w[16:]
	if d == Q5_K {
		qs = w[48:]
	}
	var s, ms int32
	for j := range 8 {
		scl, m := scaleMinK4(j, sc)
		sh := uint(4 * (j & 1))
		var js int32
		for l := range 32 {
			q := int32(qs[32*(j/2)+l] >> sh & 0xf)
			if d == Q5_K && qh[l]>>uint(j)&1 != 0 {
				q += 16
			}
			js += q * int32(int8(q8[32*j+l]))
		}
		s += js * int32(scl)
		bsum := int32(int16(binary.LittleEndian.Uint16(x[260+4*j:]))) + int32(int16(binary.LittleEndian.Uint16(x[262+4*j:])))
		ms += int32(m) * bsum
	}
	return xd*f16At(w, 0)*float32(s) - xd*f16At(w, 2)*float32(ms)
}

// q32 is value j of a Q8_0, Q4_0 or Q5_0 block as an integer.
func q32(d DType, w []byte, j int) int32 {
	if d == Q8_0 {
		return int32(int8(w[2+j]))
	}
	if d == Q5_0 {
		q := int32(w[6+j%16]>>uint(4*(j/16))) & 0xf
		return (q | int32(binary.LittleEndian.Uint32(w[2:])>>uint(j)&1)<<4) - 16
	}
	if j < 16 {
		return int32(w[2+j]&0xf) - 8
	}
	return int32(w[2+j-16]>>4) - 8
}
