package quant

import "math"

// groupMaxEps is ggml's GROUP_MAX_EPS: below it a group counts as all zero.
const groupMaxEps = 1e-15

// nearestInt rounds to nearest, ties to even, the way ggml's nearest_int
// does: adding 1.5*2^23 leaves the integer in the low mantissa bits.
// Callers pass products as float32(a*b) so no FMA swallows the rounding.
func nearestInt(f float32) int {
	v := f + 12582912
	return int(math.Float32bits(v)&0x007fffff) - 0x00400000
}

func sqrt32(f float32) float32 { return float32(math.Sqrt(float64(f))) }

// makeQKX2 is ggml's make_qkx2_quants: an asymmetric (scale, min) fit of x
// to levels 0..nmax, weighted, trying nstep+1 scales around the plain one
// and keeping the least weighted squared (or absolute) error. It returns the
// scale and -min; the levels land in L.
func makeQKX2(nmax int, x, w []float32, L, aux []uint8, rmin, rdelta float32, nstep int, useMad bool) (scale, negMin float32) {
	n := len(x)
	lo, hi := x[0], x[0]
	sumW := w[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < lo {
			lo = x[i]
		}
		if x[i] > hi {
			hi = x[i]
		}
		sumW += w[i]
		sumX += float32(w[i] * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		clear(L[:n])
		return 0, -lo
	}
	errOf := func(diff float32) float32 {
		if useMad {
			return abs32(diff)
		}
		return float32(diff * diff)
	}
	iscale := float32(nmax) / (hi - lo)
	scale = 1 / iscale
	var best float32
	for i := 0; i < n; i++ {
		l := nearestInt(float32(iscale * (x[i] - lo)))
		L[i] = uint8(max(0, min(nmax, l)))
		diff := float32(float32(scale*float32(L[i]))+lo) - x[i]
		best += float32(w[i] * errOf(diff))
	}
	if nstep < 1 {
		return scale, -lo
	}
	for is := 0; is <= nstep; is++ {
		iscale = (float32(rmin+float32(rdelta*float32(is))) + float32(nmax)) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i := 0; i < n; i++ {
			l := max(0, min(nmax, nearestInt(float32(iscale*(x[i]-lo)))))
			aux[i] = uint8(l)
			fl := float32(l)
			sumL += float32(w[i] * fl)
			sumL2 += float32(float32(w[i]*fl) * fl)
			sumXL += float32(float32(w[i]*fl) * x[i])
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D <= 0 {
			continue
		}
		thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
		thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		var cur float32
		for i := 0; i < n; i++ {
			diff := float32(float32(thisScale*float32(aux[i]))+thisMin) - x[i]
			cur += float32(w[i] * errOf(diff))
		}
		if cur < best {
			copy(L[:n], aux[:n])
			best, scale, lo = cur, thisScale, thisMin
		}
	}
	return scale, -lo
}

// makeQX is ggml's make_qx_quants with rmse_type 1 and no importance: a
// symmetric fit to levels -nmax..nmax-1 weighted by x², trying 18 scales
// around -nmax/max. L gets level+nmax.
func makeQX(nmax int, x []float32, L []int8) float32 {
	var amax, mx float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0
	}
	level := func(iscale, v float32) int {
		return max(-nmax, min(nmax-1, nearestInt(float32(iscale*v))))
	}
	sums := func(iscale float32) (sumLX, sumL2 float32) {
		for _, v := range x {
			fl := float32(level(iscale, v))
			w := float32(v * v)
			sumLX += float32(float32(w*v) * fl)
			sumL2 += float32(float32(w*fl) * fl)
		}
		return sumLX, sumL2
	}
	iscale := float32(-nmax) / mx
	for i, v := range x {
		L[i] = int8(level(iscale, v) + nmax)
	}
	sumLX, sumL2 := sums(iscale)
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(0.1*float32(is))) / mx
		sumLX, sumL2 = sums(iscale)
		if sumL2 > 0 && float32(sumLX*sumLX) > float32(best*sumL2) {
			for i, v := range x {
				L[i] = int8(level(iscale, v) + nmax)
			}
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}

// packScalesK4 stores eight 6-bit scales and mins in block_q4_K/q5_K's 12
// bytes (the inverse of scaleMinK4).
func packScalesK4(ls, lm *[8]uint8, s []byte) {
	for j := 0; j < 8; j++ {
		if j < 4 {
			s[j] = ls[j]
			s[j+4] = lm[j]
		} else {
			s[j+4] = ls[j]&0xf | (lm[j]&0xf)<<4
			s[j-4] |= (ls[j] >> 4) << 6
			s[j] |= (lm[j] >> 4) << 6
		}
	}
}

// quantKMin is the shared body of quantize_row_q4_K_ref and q5_K_ref: fit
// each 32-element sub-block, quantize scales and mins to 6 bits against the
// largest, write d/dmin/scales at b[0:16] and return the final levels.
func quantKMin(x []float32, b []byte, nmax int, rmin float32, nstep int) [QK_K]uint8 {
	var L [QK_K]uint8
	var aux [32]uint8
	var w [32]float32
	var scales, mins [8]float32
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		av := sqrt32(sumX2 / 32)
		for l, v := range xs {
			w[l] = av + abs32(v)
		}
		scales[j], mins[j] = makeQKX2(nmax, xs, w[:], L[32*j:], aux[:], rmin, 0.1, nstep, false)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	var ls, lm [8]uint8
	for j := 0; j < 8; j++ {
		ls[j] = min(63, uint8(nearestInt(float32(invScale*scales[j]))))
		lm[j] = min(63, uint8(nearestInt(float32(invMin*mins[j]))))
	}
	clear(b[4:16])
	packScalesK4(&ls, &lm, b[4:16])
	putHalf(b, maxScale/63)
	putHalf(b[2:], maxMin/63)
	d, dmin := half(b), half(b[2:])
	for j := 0; j < 8; j++ {
		sc, m := scaleMinK4(j, b[4:16])
		dj := d * float32(sc)
		if dj == 0 {
			continue
		}
		dm := dmin * float32(m)
		for i := 0; i < 32; i++ {
			L[32*j+i] = uint8(max(0, min(nmax, nearestInt((x[32*j+i]+dm)/dj))))
		}
	}
	return L
}

func quantQ4_K(x []float32, b []byte) {
	L := quantKMin(x, b, 15, -1, 20)
	qs := b[16:144]
	for j := 0; j < QK_K; j += 64 {
		for l := 0; l < 32; l++ {
			qs[j/2+l] = L[j+l] | L[j+l+32]<<4
		}
	}
}

func quantQ5_K(x []float32, b []byte) {
	L := quantKMin(x, b, 31, -0.5, 15)
	qh, ql := b[16:48], b[48:176]
	clear(qh)
	m1, m2 := byte(1), byte(2)
	for n := 0; n < QK_K; n += 64 {
		for j := 0; j < 32; j++ {
			l1, l2 := L[n+j], L[n+j+32]
			if l1 > 15 {
				l1 -= 16
				qh[j] |= m1
			}
			if l2 > 15 {
				l2 -= 16
				qh[j] |= m2
			}
			ql[n/2+j] = l1 | l2<<4
		}
		m1 <<= 2
		m2 <<= 2
	}
}

func quantQ6_K(x []float32, b []byte) {
	var L [QK_K]int8
	var scales [16]float32
	var maxScale, maxAbs float32
	for ib := 0; ib < 16; ib++ {
		scales[ib] = makeQX(32, x[16*ib:16*ib+16], L[16*ib:])
		if a := abs32(scales[ib]); a > maxAbs {
			maxAbs, maxScale = a, scales[ib]
		}
	}
	clear(b)
	if maxAbs < groupMaxEps {
		return // an all-zero block, d = 0
	}
	iscale := -128 / maxScale
	putHalf(b[208:], 1/iscale)
	sc := b[192:208]
	for ib := range 16 {
		sc[ib] = byte(int8(min(127, nearestInt(float32(iscale*scales[ib])))))
	}
	d := half(b[208:])
	for j := 0; j < 16; j++ {
		dj := d * float32(int8(sc[j]))
		if dj == 0 {
			continue
		}
		for i := 0; i < 16; i++ {
			L[16*j+i] = int8(max(-32, min(31, nearestInt(x[16*j+i]/dj))) + 32)
		}
	}
	ql, qh := b[0:128], b[128:192]
	for j := 0; j < QK_K; j += 128 {
		for l := 0; l < 32; l++ {
			q1, q2, q3, q4 := uint8(L[j+l]), uint8(L[j+l+32]), uint8(L[j+l+64]), uint8(L[j+l+96])
			ql[j/2+l] = q1&0xf | (q3&0xf)<<4
			ql[j/2+l+32] = q2&0xf | (q4&0xf)<<4
			qh[j/4+l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
		}
	}
}
