package engine

import "math"

// attend computes causal grouped-query attention for n new query rows (at
// positions s.pos..s.pos+n-1) of layer l against the KV cache, which already
// holds those positions. q is [n][Heads×HeadDim], out the same shape.
// Work is split over (token, head) pairs across the pool.
func (s *Session) attend(l int, q, out []float32, n int) {
	c := s.m.cfg
	hd, kvDim := c.HeadDim, c.KVHeads*c.HeadDim
	group := c.Heads / c.KVHeads
	kc, vc := s.k[l], s.v[l]
	scale := float32(1 / math.Sqrt(float64(hd)))
	workers := s.m.pool.Workers()
	if len(s.scores) < workers {
		s.scores = make([][]float32, workers)
	}
	s.m.pool.For(n*c.Heads, 4, func(w, lo, hi int) {
		for item := lo; item < hi; item++ {
			t, h := item/c.Heads, item%c.Heads
			p := s.pos + t
			first := 0
			if c.SlidingWindow > 0 {
				first = max(0, p-c.SlidingWindow+1)
			}
			if cap(s.scores[w]) < p+1 {
				s.scores[w] = make([]float32, p+1, max(p+1, c.MaxPositions))
			}
			sc := s.scores[w][:p+1-first]
			qh := q[t*c.Heads*hd+h*hd : t*c.Heads*hd+(h+1)*hd]
			koff := (h / group) * hd
			best := float32(math.Inf(-1))
			for j := range sc {
				kj := kc[(first+j)*kvDim+koff : (first+j)*kvDim+koff+hd]
				var d float32
				for i, qv := range qh {
					d += qv * kj[i]
				}
				d *= scale
				sc[j] = d
				best = max(best, d)
			}
			var sum float32
			for j, v := range sc {
				e := float32(math.Exp(float64(v - best)))
				sc[j] = e
				sum += e
			}
			oh := out[t*c.Heads*hd+h*hd : t*c.Heads*hd+(h+1)*hd]
			clear(oh)
			inv := 1 / sum
			for j, e := range sc {
				vj := vc[(first+j)*kvDim+koff : (first+j)*kvDim+koff+hd]
				wgt := e * inv
				for i, vv := range vj {
					oh[i] += wgt * vv
				}
			}
		}
	})
}
