package kernels

import "fmt"

// chunkBytes is the weight bytes one worker takes per grab: large enough to
// amortise a cgo call and the atomic, small enough to balance two cores.
const chunkBytes = 256 << 10

// MatMul computes out[t][r] = Σ_c x[t][c]·w[r][c] for t < n tokens: x is
// [n][w.Cols], out is [n][w.Rows] (a Linear layer with weight [out, in]).
// n = 1 is the decode matrix-vector product; n > 1 reuses each weight row
// across tokens (prefill).
func (p *Pool) MatMul(out, x []float32, n int, w Matrix) {
	if len(x) < n*w.Cols || len(out) < n*w.Rows {
		panic(fmt.Sprintf("kernels: MatMul %d tokens: x %d (need %d), out %d (need %d)", n, len(x), n*w.Cols, len(out), n*w.Rows))
	}
	if n == 0 || w.Rows == 0 {
		return
	}
	if w.Cols == 0 {
		clear(out[:n*w.Rows])
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	mode := kernelMode(n)
	if w.DType == BF16 && permutes(mode) {
		if cap(p.scratch) < n*w.Cols {
			p.scratch = make([]float32, n*w.Cols)
		}
		xp := p.scratch[:n*w.Cols]
		for t := range n {
			permute16(xp[t*w.Cols:(t+1)*w.Cols], x[t*w.Cols:(t+1)*w.Cols])
		}
		x = xp
	}
	rowBytes := max(w.Cols*w.DType.Size(), 1)
	grain := max(4, chunkBytes/rowBytes/4*4)
	p.forChunks(w.Rows, grain, func(_, lo, hi int) {
		matmulRows(mode, w, x, n, out, w.Rows, lo, hi)
	})
}

// permute16 deinterleaves every full block of 16 values into its 8 even
// then 8 odd elements: the C kernels widen 16 BF16 weights with one shift
// and one mask, which yields exactly that order. The tail stays in place.
func permute16(dst, src []float32) {
	full := len(src) / 16 * 16
	for b := 0; b < full; b += 16 {
		s := src[b : b+16 : b+16]
		d := dst[b : b+16 : b+16]
		for j := range 8 {
			d[j] = s[2*j]
			d[8+j] = s[2*j+1]
		}
	}
	copy(dst[full:], src[full:])
}

// StreamRead reads every byte of bufs once across all workers and returns
// a checksum: the benchmark's memory-bandwidth probe, using the same
// streaming loads and threads as the kernels.
func (p *Pool) StreamRead(bufs ...[]byte) uint64 {
	const grain = 1 << 20
	type piece struct{ buf []byte }
	var pieces []piece
	for _, b := range bufs {
		for lo := 0; lo < len(b); lo += grain {
			pieces = append(pieces, piece{b[lo:min(lo+grain, len(b))]})
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	sums := make([]uint64, p.n)
	p.forChunks(len(pieces), 1, func(w, lo, hi int) {
		for _, pc := range pieces[lo:hi] {
			sums[w] += streamSum(pc.buf)
		}
	})
	var s uint64
	for _, v := range sums {
		s += v
	}
	return s
}
