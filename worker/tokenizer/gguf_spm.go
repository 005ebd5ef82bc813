package tokenizer

import (
	"container/heap"
	"math"
)

// SentencePiece as llama.cpp runs a GGUF "llama" vocabulary (its
// llm_tokenizer_spm): the word starts as one symbol per UTF-8 character;
// the adjacent pair whose concatenation is a token with the highest score
// merges first (ties: the leftmost), until no pair is a token; a symbol
// that is no token becomes its <0xXX> byte tokens (else unk). GGUF files
// carry scores, not a merge list.

// setScores switches b to score-ordered merging. Added tokens (control,
// user-defined, unknown) and byte tokens are never merge results: the
// Hugging Face merge list has no merge into them either, and the encoder
// matches added tokens in the raw text before the model sees it.
func (b *bpe) setScores(scores []float32, added []addedTokenJSON) {
	b.scores = make([]float32, len(b.tokens))
	copy(b.scores, scores)
	for _, a := range added {
		if a.ID >= 0 && a.ID < len(b.scores) {
			b.scores[a.ID] = float32(math.NaN())
		}
	}
	for _, id := range b.byteIDs {
		if id >= 0 {
			b.scores[id] = float32(math.NaN())
		}
	}
}

type spmSymbol struct {
	start, n   int // bytes of the word; n = 0 once merged into the left neighbour
	prev, next int
}

type spmBigram struct {
	score       float32
	left, right int
	size        int
}

type spmQueue []spmBigram

func (q spmQueue) Len() int { return len(q) }
func (q spmQueue) Less(i, j int) bool {
	return q[i].score > q[j].score || (q[i].score == q[j].score && q[i].left < q[j].left)
}
func (q spmQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *spmQueue) Push(x any)   { *q = append(*q, x.(spmBigram)) }
func (q *spmQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (b *bpe) encodeSPM(w string, out []int) []int {
	syms := make([]spmSymbol, 0, len(w))
	for i := 0; i < len(w); {
		n := utf8Len(w[i])
		n = min(n, len(w)-i)
		syms = append(syms, spmSymbol{start: i, n: n, prev: len(syms) - 1, next: len(syms) + 1})
		i += n
	}
	syms[len(syms)-1].next = -1
	q := make(spmQueue, 0, len(syms))
	try := func(l, r int) {
		if l < 0 || r < 0 {
			return
		}
		text := w[syms[l].start : syms[r].start+syms[r].n]
		id, ok := b.vocab[text]
		if !ok || id >= len(b.scores) || math.IsNaN(float64(b.scores[id])) {
			return
		}
		heap.Push(&q, spmBigram{score: b.scores[id], left: l, right: r, size: len(text)})
	}
	for i := 1; i < len(syms); i++ {
		try(i-1, i)
	}
	for q.Len() > 0 {
		bg := heap.Pop(&q).(spmBigram)
		l, r := &syms[bg.left], &syms[bg.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != bg.size {
			continue // stale: one side merged since
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = bg.left
		}
		try(l.prev, bg.left)
		try(bg.left, l.next)
	}
	for i := 0; i != -1; i = syms[i].next {
		text := w[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := b.vocab[text]; ok {
			out = append(out, id)
			continue
		}
		if !b.hasBytes(text) {
			if b.unk >= 0 {
				out = append(out, b.unk)
			}
			continue
		}
		for j := 0; j < len(text); j++ {
			out = append(out, b.byteIDs[text[j]])
		}
	}
	return out
}

// utf8Len is the length of the UTF-8 sequence a lead byte starts (1 for
// a stray continuation byte), as llama.cpp's unicode_len_utf8.
func utf8Len(c byte) int {
	switch {
	case c < 0x80 || c < 0xC0:
		return 1
	case c < 0xE0:
		return 2
	case c < 0xF0:
		return 3
	}
	return 4
}
