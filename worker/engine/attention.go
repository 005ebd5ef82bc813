package engine

import (
	"math"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// The KV cache of a layer is head-major: [KVHeads][capacity][HeadDim], so
// the rows one key/value head attends over are contiguous for the kernel.

// storeKV writes the n new key and value rows ([n][KVHeads×HeadDim]) of
// layer l at positions s.pos.. into the cache.
func (s *Session) storeKV(l int, k, v []float32, n int) {
	c := s.m.cfg
	hd, kvDim := c.HeadDim, c.KVHeads*c.HeadDim
	for t := range n {
		for g := range c.KVHeads {
			at := (g*s.capacity + s.pos + t) * hd
			copy(s.k[l][at:at+hd], k[t*kvDim+g*hd:t*kvDim+(g+1)*hd])
			copy(s.v[l][at:at+hd], v[t*kvDim+g*hd:t*kvDim+(g+1)*hd])
		}
	}
}

// serialAttendRows: key rows (positions × kv heads) up to which one
// token's attention runs on the caller alone. The pool's Go workers compete
// for the cores with the C threads spinning for the next product: on the
// TinyLlama shape (4 kv heads) serial decode was faster at every position
// measured, 13.9 vs 12.4 tok/s at position 600 and 11.6 vs 10.5 at 2000
// (8004 rows); past twice that the work is split, unmeasured.
const serialAttendRows = 16384

// attend computes causal grouped-query attention for n new query rows (at
// positions s.pos..s.pos+n-1) of layer l against the KV cache, which already
// holds those positions. q is [n][Heads×HeadDim], out the same shape. The
// query heads sharing a key/value head are adjacent, so one kernel call
// serves a (token, kv head) pair; pairs are spread over the pool.
func (s *Session) attend(l int, q, out []float32, n int) {
	c := s.m.cfg
	hd, qDim := c.HeadDim, c.Heads*c.HeadDim
	group := c.Heads / c.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	workers := s.m.pool.Workers()
	if len(s.scores) < workers {
		s.scores = make([][]float32, workers)
	}
	// One token's few pairs run on the caller (serialAttendRows): the
	// pool's workers would compete for the cores with the C threads
	// spinning for the next product (Q8_0 decode at 128-192 positions:
	// 22.0 -> 23.2 tok/s alternated).
	grain := 1
	if n == 1 && (s.pos+1)*c.KVHeads <= serialAttendRows {
		grain = c.KVHeads
	}
	s.m.pool.For(n*c.KVHeads, grain, func(w, lo, hi int) {
		for item := lo; item < hi; item++ {
			t, g := item/c.KVHeads, item%c.KVHeads
			p := s.pos + t
			first := 0
			if c.SlidingWindow > 0 {
				first = max(0, p-c.SlidingWindow+1)
			}
			if len(s.scores[w]) < group*(p+1) {
				s.scores[w] = make([]float32, group*max(p+1, min(2*(p+1), c.MaxPositions)))
			}
			base := g * s.capacity * hd
			kr := s.k[l][base+first*hd : base+(p+1)*hd]
			vr := s.v[l][base+first*hd : base+(p+1)*hd]
			heads := t*qDim + g*group*hd
			kernels.Attend(q[heads:heads+group*hd], group, hd, kr, vr, scale, s.scores[w], out[heads:heads+group*hd])
		}
	})
}
