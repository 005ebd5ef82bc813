package kernels

import (
	"fmt"
	"slices"
	"unsafe"
)

// chunkBytes is the weight bytes one worker takes per grab in prefill:
// large enough to amortise the atomic, small enough to balance two cores
// (256 KiB grabs are ~0.7 ms of Q4_K work: a product of 9-14 of them left
// a core idle for half a grab at its end, and 64 KiB took Q4_K_M prefill
// from 105-107 to 110-125 tok/s in alternated runs), and within L2 while
// the kernels sweep a token block over it.
const chunkBytes = 64 << 10

// decodeChunkBytes is the grab for one token, where no weight is reused:
// longer sequential streams read ~5% faster here (1 MiB vs 256 KiB,
// alternated rounds of the decode matrix products of TinyLlama-1.1B).
const decodeChunkBytes = 1 << 20

// amxGrain is the rows per grab on AMX: whole 16-row tiles, and enough of
// them to share the per-grab conversion of every token's block scales
// (there it is 64 KiB of Q8_0 too, at 2048 columns).
const amxGrain = 64

// rowGrain is the rows per grab of w for an n-token product.
func rowGrain(w Matrix, n int) int {
	cb := chunkBytes
	if n == 1 {
		cb = decodeChunkBytes
	}
	g := max(8, cb/max(w.rowBytes(), 1)/8*8)
	if amxRows(w.DType, n) {
		g = max(amxGrain, g/amxGrain*amxGrain)
	}
	return g
}

// MatMul computes out[t][r] = Σ_c x[t][c]·w[r][c] for t < n tokens: x is
// [n][w.Cols], out is [n][w.Rows] (a Linear layer with weight [out, in]).
// n = 1 is the decode matrix-vector product; n > 1 reuses each weight row
// across tokens (prefill).
func (p *Pool) MatMul(out, x []float32, n int, w Matrix) {
	p.MatMuls(x, n, Product{Out: out, W: w})
}

// Product is one weight matrix and its output for MatMuls.
type Product struct {
	Out []float32
	W   Matrix
}

// chunk is a row range of one product.
type chunk struct{ prod, lo, hi int }

// MatMuls computes several products of the same activations x (all
// matrices with x's width) in one dispatch, as MatMul each: the workers
// share one queue of row chunks, so q/k/v or gate/up cost one barrier.
func (p *Pool) MatMuls(x []float32, n int, ps ...Product) {
	if n == 0 || len(ps) == 0 {
		return
	}
	cols := ps[0].W.Cols
	for _, pr := range ps {
		if pr.W.Cols != cols || len(x) < n*cols || len(pr.Out) < n*pr.W.Rows {
			panic(fmt.Sprintf("kernels: MatMuls %d tokens: x %d, width %d; weight %dx%d, out %d", n, len(x), cols, pr.W.Rows, pr.W.Cols, len(pr.Out)))
		}
	}
	if cols == 0 {
		for _, pr := range ps {
			clear(pr.Out[:n*pr.W.Rows])
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	mode := kernelMode(n)
	xp := x
	if permutes(mode) && slices.ContainsFunc(ps, func(pr Product) bool { return pr.W.DType == BF16 }) {
		if cap(p.scratch) < n*cols {
			p.scratch = make([]float32, n*cols)
		}
		xp = p.scratch[:n*cols]
		for t := range n {
			permute16(xp[t*cols:(t+1)*cols], x[t*cols:(t+1)*cols])
		}
	}
	var xq [2][]byte   // activations quantized for Q8_0/Q4_0 and for the K-quants
	var parts []uint16 // activations in BF16 parts for AMX-BF16
	for _, pr := range ps {
		if d := pr.W.DType; d.Quantized() {
			if k := b2i(d.kActs()); xq[k] == nil {
				xq[k] = p.quantized(k, x, n, cols)
			}
		} else if parts == nil && splitActs(mode, d, n) {
			parts = p.split(x, n, cols)
		}
	}
	// input is what pr's kernel reads: x, x permuted for BF16, x quantized
	// or x in BF16 parts.
	input := func(pr Product) unsafe.Pointer {
		switch d := pr.W.DType; {
		case d.Quantized():
			return unsafe.Pointer(&xq[b2i(d.kActs())][0])
		case splitActs(mode, d, n):
			return unsafe.Pointer(&parts[0])
		case d == BF16:
			return unsafe.Pointer(&xp[0])
		}
		return unsafe.Pointer(&x[0])
	}
	if p.c.matmuls(mode, n, cols, ps, input) {
		return
	}
	p.chunks = p.chunks[:0]
	for i, pr := range ps {
		g := rowGrain(pr.W, n)
		for lo := 0; lo < pr.W.Rows; lo += g {
			p.chunks = append(p.chunks, chunk{i, lo, min(lo+g, pr.W.Rows)})
		}
	}
	p.forChunks(len(p.chunks), 1, func(_, lo, hi int) {
		for _, c := range p.chunks[lo:hi] {
			pr := ps[c.prod]
			if d := pr.W.DType; d.Quantized() {
				qmatmulRows(mode, pr.W, xq[b2i(d.kActs())], n, pr.Out, pr.W.Rows, c.lo, c.hi)
				continue
			} else if splitActs(mode, d, n) {
				matmulSplitRows(pr.W, parts, n, pr.Out, pr.W.Rows, c.lo, c.hi)
				continue
			}
			xs := x
			if pr.W.DType == BF16 {
				xs = xp
			}
			matmulRows(mode, pr.W, xs, n, pr.Out, pr.W.Rows, c.lo, c.hi)
		}
	})
}

// quantized returns n tokens of x quantized as Q8_K (k 1) or Q8_0 blocks
// in the pool's scratch, a token per item across the workers for a batch
// (in prefill it is a few percent of the work, and serial it idles the
// other cores); p.mu held.
func (p *Pool) quantized(k int, x []float32, n, cols int) []byte {
	d := Q8_0
	if k == 1 {
		d = Q4_K
	}
	rb := actRowBytes(d, cols)
	if cap(p.qscratch[k]) < n*rb {
		p.qscratch[k] = make([]byte, n*rb)
	}
	buf := p.qscratch[k][:n*rb]
	if n < 8 {
		quantizeActsC(k == 1, x, n, cols, buf)
		return buf
	}
	p.forChunks(n, 4, func(_, lo, hi int) {
		quantizeActsC(k == 1, x[lo*cols:hi*cols], hi-lo, cols, buf[lo*rb:hi*rb])
	})
	return buf
}

// splitTokens is the tokens a split batch of n holds: n rounded up to 16,
// the AMX tiles' rows.
func splitTokens(n int) int { return (n + 15) / 16 * 16 }

// split returns n tokens of x in BF16 parts (splitActsC), rounded up to
// 16 with zero tokens, in the pool's scratch, tokens shared by the workers
// as in quantized; p.mu held.
func (p *Pool) split(x []float32, n, cols int) []uint16 {
	np, per := splitTokens(n), splitWords(cols)
	if cap(p.sscratch) < np*per {
		p.sscratch = make([]uint16, np*per)
	}
	buf := p.sscratch[:np*per]
	p.forChunks(n, 4, func(_, lo, hi int) {
		end := hi
		if hi == n {
			end = np
		}
		splitActsC(x[lo*cols:hi*cols], hi-lo, cols, buf[lo*per:], end-lo)
	})
	return buf
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
