package kernels

import (
	"encoding/binary"
	"math"
)

// goMatMulRows is the portable kernel: rows [r0,r1) of out for all n tokens,
// x in natural order. Four rows at a time so each x element loaded serves
// four weights.
func goMatMulRows(w Matrix, x []float32, n int, out []float32, ldo, r0, r1 int) {
	cols := w.Cols
	buf := make([]float32, 4*cols)
	r := r0
	for ; r+4 <= r1; r += 4 {
		for i := range 4 {
			w.Row(r+i, buf[i*cols:(i+1)*cols])
		}
		w0, w1, w2, w3 := buf[:cols], buf[cols:2*cols], buf[2*cols:3*cols], buf[3*cols:4*cols]
		for t := range n {
			xt := x[t*cols : (t+1)*cols]
			var s0, s1, s2, s3 float32
			for c, xv := range xt {
				s0 += w0[c] * xv
				s1 += w1[c] * xv
				s2 += w2[c] * xv
				s3 += w3[c] * xv
			}
			o := out[t*ldo+r : t*ldo+r+4]
			o[0], o[1], o[2], o[3] = s0, s1, s2, s3
		}
	}
	for ; r < r1; r++ {
		wr := buf[:cols]
		w.Row(r, wr)
		for t := range n {
			var s float32
			for c, xv := range x[t*cols : (t+1)*cols] {
				s += wr[c] * xv
			}
			out[t*ldo+r] = s
		}
	}
}

// goStreamSum reads b once (a memory-bandwidth probe): the sum of its
// little-endian 8-byte words plus the bytes of a final partial word.
func goStreamSum(b []byte) uint64 {
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+32 <= len(b); i += 32 {
		s0 += binary.LittleEndian.Uint64(b[i:])
		s1 += binary.LittleEndian.Uint64(b[i+8:])
		s2 += binary.LittleEndian.Uint64(b[i+16:])
		s3 += binary.LittleEndian.Uint64(b[i+24:])
	}
	for ; i+8 <= len(b); i += 8 {
		s0 += binary.LittleEndian.Uint64(b[i:])
	}
	for ; i < len(b); i++ {
		s0 += uint64(b[i])
	}
	return s0 + s1 + s2 + s3
}

// goSwiGLU is the portable SwiGLU loop, silu in float64 as num / (1 + t)
// with t = e^-|g| (see kernels.c): it cannot overflow, and below -120,
// where g·t underflows a float32, num is 0 rather than -inf·0 at -inf.
func goSwiGLU(gate, up []float32) {
	for i, g := range gate {
		s := float64(g)
		t := math.Exp(-math.Abs(s))
		switch {
		case s < -120:
			s = 0
		case s < 0:
			s *= t
		}
		gate[i] = float32(s/(1+t)) * up[i]
	}
}
