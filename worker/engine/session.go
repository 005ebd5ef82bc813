package engine

import (
	"context"
	"fmt"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// Session is one generation's state: the positions fed so far and their KV
// cache. Each request gets a fresh Session, so no state can leak between
// requests. A Session is not safe for concurrent use.
type Session struct {
	m        *Model
	pos      int
	capacity int         // positions the cache holds
	k, v     [][]float32 // per layer: [KVHeads][capacity][HeadDim]
	bufs     buffers
	scores   [][]float32 // per pool worker: attention weights
}

// buffers are the activations of one Forward call, reused across calls.
type buffers struct {
	x, h, q, k, v, att, o, gate, up, logits, cs []float32
}

// NewSession starts an empty sequence with its own KV cache.
func (m *Model) NewSession() *Session {
	return &Session{m: m, k: make([][]float32, m.cfg.Layers), v: make([][]float32, m.cfg.Layers)}
}

// KVCacheBytes returns the bytes the KV cache holds now: it grows with the
// sequence (doubling, at least 64 positions), never to the full context
// up front.
func (s *Session) KVCacheBytes() int64 {
	c := s.m.cfg
	return 2 * int64(c.Layers) * int64(c.KVHeads) * int64(s.capacity) * int64(c.HeadDim) * 4
}

// Len returns the number of positions in the cache.
func (s *Session) Len() int { return s.pos }

// Forward appends tokens to the sequence (all at once: a batched prefill
// when len(tokens) > 1) and returns the logits of the last position
// (len VocabSize; valid until the next call).
func (s *Session) Forward(tokens []int) ([]float32, error) {
	return s.ForwardContext(context.Background(), tokens)
}

// ForwardContext is Forward that stops between layers when ctx is done;
// the session then keeps its previous length, as if the call never happened.
func (s *Session) ForwardContext(ctx context.Context, tokens []int) ([]float32, error) {
	c := s.m.cfg
	n := len(tokens)
	if n == 0 {
		return nil, fmt.Errorf("forward: no tokens")
	}
	if s.pos+n > c.MaxPositions {
		return nil, fmt.Errorf("%w: %d cached + %d new tokens > %d (max_position_embeddings)", ErrContextExceeded, s.pos, n, c.MaxPositions)
	}
	for i, t := range tokens {
		if t < 0 || t >= c.VocabSize {
			return nil, fmt.Errorf("%w: token %d at %d (vocab size %d)", ErrBadToken, t, i, c.VocabSize)
		}
	}
	start := s.pos
	s.growCache(s.pos + n)
	for len(tokens) > 0 {
		batch := tokens[:min(len(tokens), s.m.maxBatch)]
		tokens = tokens[len(batch):]
		if err := s.pass(ctx, batch); err != nil {
			s.pos = start
			return nil, err
		}
	}
	b := &s.bufs
	last := b.x[(len(b.x)/c.Hidden-1)*c.Hidden:]
	rmsNorm(b.h[:c.Hidden], last, s.m.norm, c.RMSEps)
	s.m.pool.MatMul(b.logits, b.h[:c.Hidden], 1, s.m.lmHead)
	return b.logits, nil
}

// pass runs n ≤ Options.MaxBatch tokens through all layers and advances s.pos;
// s.bufs.x then holds their final hidden states.
func (s *Session) pass(ctx context.Context, tokens []int) error {
	c, n := s.m.cfg, len(tokens)
	b := s.buffers(n)
	for i, t := range tokens {
		s.m.embed.Row(t, b.x[i*c.Hidden:(i+1)*c.Hidden])
	}
	for l := range s.m.layers {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("forward: %w", err)
		}
		s.layer(l, n)
	}
	s.pos += n
	return nil
}

// layer runs decoder block l on the n rows of s.bufs.x in place.
func (s *Session) layer(l int, n int) {
	c, lw, b, pool := s.m.cfg, &s.m.layers[l], &s.bufs, s.m.pool
	qDim, kvDim := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	h := b.h[:n*c.Hidden]
	rmsNorm(h, b.x[:n*c.Hidden], lw.attnNorm, c.RMSEps)
	q, k, v := b.q[:n*qDim], b.k[:n*kvDim], b.v[:n*kvDim]
	pool.MatMuls(h, n, kernels.Product{Out: q, W: lw.q}, kernels.Product{Out: k, W: lw.k}, kernels.Product{Out: v, W: lw.v})
	addBias(q, lw.qBias)
	addBias(k, lw.kBias)
	addBias(v, lw.vBias)
	rope(q, n, c.Heads, c.HeadDim, c.RotaryDim, s.pos, c.RopeTheta, c.RopeInterleaved, b.cs)
	rope(k, n, c.KVHeads, c.HeadDim, c.RotaryDim, s.pos, c.RopeTheta, c.RopeInterleaved, b.cs)
	s.storeKV(l, k, v, n)
	att := b.att[:n*qDim]
	s.attend(l, q, att, n)
	o := b.o[:n*c.Hidden]
	pool.MatMul(o, att, n, lw.o)
	addBias(o, lw.oBias)
	addInto(b.x[:n*c.Hidden], o)

	rmsNorm(h, b.x[:n*c.Hidden], lw.mlpNorm, c.RMSEps)
	g, u := b.gate[:n*c.Intermediate], b.up[:n*c.Intermediate]
	pool.MatMuls(h, n, kernels.Product{Out: g, W: lw.gate}, kernels.Product{Out: u, W: lw.up})
	s.swiGLU(g, u)
	pool.MatMul(o, g, n, lw.down)
	addInto(b.x[:n*c.Hidden], o)
}

// swiGLU runs swiGLU across the pool when the batch is large: a 128-token
// TinyLlama prefill is ~0.7M exponentials per layer (~5% of the samples
// while they were scalar Go on one core; the C kernel takes ~0.3 ns each).
// A decode step's few thousand stay on the caller.
func (s *Session) swiGLU(g, u []float32) {
	const grain = 16 << 10
	if len(g) < 4*grain {
		swiGLU(g, u)
		return
	}
	s.m.pool.For(len(g), grain, func(_, lo, hi int) { swiGLU(g[lo:hi], u[lo:hi]) })
}

// buffers sizes the activation buffers for n rows.
func (s *Session) buffers(n int) *buffers {
	c, b := s.m.cfg, &s.bufs
	qDim, kvDim := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	grow := func(buf *[]float32, size int) {
		if cap(*buf) < size {
			*buf = make([]float32, size)
		}
		*buf = (*buf)[:size]
	}
	grow(&b.x, n*c.Hidden)
	grow(&b.h, n*c.Hidden)
	grow(&b.o, n*c.Hidden)
	grow(&b.q, n*qDim)
	grow(&b.att, n*qDim)
	grow(&b.k, n*kvDim)
	grow(&b.v, n*kvDim)
	grow(&b.gate, n*c.Intermediate)
	grow(&b.up, n*c.Intermediate)
	grow(&b.logits, c.VocabSize)
	grow(&b.cs, c.RotaryDim)
	return b
}

// growCache makes room for positions [0, need), doubling to amortise.
func (s *Session) growCache(need int) {
	c := s.m.cfg
	if need <= s.capacity {
		return
	}
	capacity := min(max(need, 2*s.capacity, 64), c.MaxPositions)
	hd := c.HeadDim
	for l := range s.k {
		nk, nv := make([]float32, c.KVHeads*capacity*hd), make([]float32, c.KVHeads*capacity*hd)
		for g := range c.KVHeads {
			copy(nk[g*capacity*hd:], s.k[l][g*s.capacity*hd:(g*s.capacity+s.pos)*hd])
			copy(nv[g*capacity*hd:], s.v[l][g*s.capacity*hd:(g*s.capacity+s.pos)*hd])
		}
		s.k[l], s.v[l] = nk, nv
	}
	s.capacity = capacity
}
