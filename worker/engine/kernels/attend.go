package kernels

import "math"

// Attend computes softmax attention for the heads of one query row that
// share a key/value head: q and out are [group][hd]; k and v are the cached
// [len][hd] rows the query may see. scores is scratch of len ≥
// group·len(k)/hd (a row of scores per head: the AVX-512 kernel serves the
// group's heads together).
func Attend(q []float32, group, hd int, k, v []float32, scale float32, scores, out []float32) {
	n := len(k) / hd
	if n == 0 || group == 0 {
		clear(out[:group*hd])
		return
	}
	attend(kernelMode(1), q[:group*hd], group, hd, k[:n*hd], v[:n*hd], scale, scores[:group*n], out[:group*hd])
}

// goAttend is the portable attention loop.
func goAttend(q []float32, group, hd int, k, v []float32, scale float32, sc, out []float32) {
	sc = sc[:len(k)/hd]
	for i := range group {
		qi := q[i*hd : (i+1)*hd]
		best := float32(math.Inf(-1))
		for j := range sc {
			kj := k[j*hd : (j+1)*hd]
			var d0, d1, d2, d3 float32
			c := 0
			for ; c+4 <= hd; c += 4 {
				d0 += qi[c] * kj[c]
				d1 += qi[c+1] * kj[c+1]
				d2 += qi[c+2] * kj[c+2]
				d3 += qi[c+3] * kj[c+3]
			}
			for ; c < hd; c++ {
				d0 += qi[c] * kj[c]
			}
			s := (d0 + d1 + d2 + d3) * scale
			sc[j] = s
			best = max(best, s)
		}
		var sum float32
		for j, s := range sc {
			e := float32(math.Exp(float64(s - best)))
			sc[j] = e
			sum += e
		}
		oi := out[i*hd : (i+1)*hd]
		clear(oi)
		inv := 1 / sum
		for j, e := range sc {
			p := e * inv
			for c, vv := range v[j*hd : (j+1)*hd] {
				oi[c] += p * vv
			}
		}
	}
}
