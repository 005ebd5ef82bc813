package tokenizer

import (
	"container/heap"
	"fmt"
	"strings"
	"unicode/utf8"
)

type mergeInfo struct {
	rank int32
	id   int32 // token id of the merged pair
}

// bpe is the Hugging Face BPE model: merge ranks applied lowest-rank-first
// with a priority queue, byte fallback, unk.
type bpe struct {
	vocab        map[string]int
	tokens       []string // id → token; "" where no vocab entry
	merges       map[uint64]mergeInfo
	unk          int // -1 = none
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	byteIDs      [256]int  // id of <0xNN>, -1 if absent
	prefix       string    // continuing_subword_prefix
	suffix       string    // end_of_word_suffix
	scores       []float32 // SentencePiece scores (GGUF "llama"): see spm
}

func pairKey(a, b int) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func newBPE(m *modelJSON) (*bpe, error) {
	if m.Type != "" && m.Type != "BPE" {
		return nil, fmt.Errorf("%w: model type %q (only BPE)", ErrUnsupported, m.Type)
	}
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("model has an empty vocab")
	}
	b := &bpe{vocab: m.Vocab, unk: -1, fuseUnk: m.FuseUnk, byteFallback: m.ByteFallback, ignoreMerges: m.IgnoreMerges}
	if m.ContinuingSubwordPrefix != nil {
		b.prefix = *m.ContinuingSubwordPrefix
	}
	if m.EndOfWordSuffix != nil {
		b.suffix = *m.EndOfWordSuffix
	}
	maxID := -1
	for tok, id := range m.Vocab {
		if id < 0 {
			return nil, fmt.Errorf("vocab token %q has negative id %d", tok, id)
		}
		maxID = max(maxID, id)
	}
	b.tokens = make([]string, maxID+1)
	for tok, id := range m.Vocab {
		b.tokens[id] = tok
	}
	if m.UnkToken != nil && *m.UnkToken != "" {
		id, ok := m.Vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocab", *m.UnkToken)
		}
		b.unk = id
	}
	for i := range b.byteIDs {
		b.byteIDs[i] = -1
		if id, ok := m.Vocab[fmt.Sprintf("<0x%02X>", i)]; ok {
			b.byteIDs[i] = id
		}
	}
	b.merges = make(map[uint64]mergeInfo, len(m.Merges))
	var buf []byte
	for rank, mg := range m.Merges {
		a, ok1 := m.Vocab[mg[0]]
		c, ok2 := m.Vocab[mg[1]]
		buf = append(append(buf[:0], mg[0]...), strings.TrimPrefix(mg[1], b.prefix)...)
		merged, ok3 := m.Vocab[string(buf)] // a map lookup does not allocate the string
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("merge %d (%q %q) uses a token missing from the vocab", rank, mg[0], mg[1])
		}
		// Later duplicates win, as in the Hugging Face map construction.
		b.merges[pairKey(a, c)] = mergeInfo{rank: int32(rank), id: int32(merged)}
	}
	return b, nil
}

type symbol struct {
	id         int // -1 once merged into its left neighbour
	prev, next int
}

type mergeItem struct{ rank, pos, id int32 }

// mergeQueue orders pending merges by rank, then leftmost position.
type mergeQueue []mergeItem

func (q mergeQueue) Len() int { return len(q) }
func (q mergeQueue) Less(i, j int) bool {
	return q[i].rank < q[j].rank || (q[i].rank == q[j].rank && q[i].pos < q[j].pos)
}
func (q mergeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *mergeQueue) Push(x any)   { *q = append(*q, x.(mergeItem)) }
func (q *mergeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// encodeWord appends the ids of one pre-tokenized word.
func (b *bpe) encodeWord(w string, out []int) []int {
	if w == "" {
		return out
	}
	if b.scores != nil {
		return b.encodeSPM(w, out)
	}
	if b.ignoreMerges {
		if id, ok := b.vocab[w]; ok {
			return append(out, id)
		}
	}
	syms := make([]symbol, 0, len(w))
	add := func(id int) {
		n := len(syms)
		syms = append(syms, symbol{id: id, prev: n - 1, next: n + 1})
	}
	pendingUnk := false
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		end := i + size
		key := w[i:end]
		if i > 0 && b.prefix != "" {
			key = b.prefix + key
		}
		if end == len(w) && b.suffix != "" {
			key += b.suffix
		}
		i = end
		if id, ok := b.vocab[key]; ok {
			if pendingUnk {
				add(b.unk)
				pendingUnk = false
			}
			add(id)
			continue
		}
		if b.byteFallback && b.hasBytes(key) {
			if pendingUnk {
				add(b.unk)
				pendingUnk = false
			}
			for j := 0; j < len(key); j++ {
				add(b.byteIDs[key[j]])
			}
			continue
		}
		if b.unk >= 0 {
			if pendingUnk && !b.fuseUnk {
				add(b.unk)
			}
			pendingUnk = true
		}
	}
	if pendingUnk {
		add(b.unk)
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1

	q := make(mergeQueue, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := b.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			q = append(q, mergeItem{m.rank, int32(i), m.id})
		}
	}
	heap.Init(&q)
	for q.Len() > 0 {
		top := heap.Pop(&q).(mergeItem)
		pos := int(top.pos)
		s := &syms[pos]
		if s.id < 0 || s.next < 0 {
			continue
		}
		right := syms[s.next]
		// Skip queue entries made stale by an earlier merge.
		if m, ok := b.merges[pairKey(s.id, right.id)]; !ok || m.id != top.id {
			continue
		}
		syms[s.next].id = -1
		s.id = int(top.id)
		s.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = pos
		}
		if s.prev >= 0 {
			if m, ok := b.merges[pairKey(syms[s.prev].id, s.id)]; ok {
				heap.Push(&q, mergeItem{m.rank, int32(s.prev), m.id})
			}
		}
		if s.next >= 0 {
			if m, ok := b.merges[pairKey(s.id, syms[s.next].id)]; ok {
				heap.Push(&q, mergeItem{m.rank, int32(pos), m.id})
			}
		}
	}
	for _, s := range syms {
		if s.id >= 0 {
			out = append(out, s.id)
		}
	}
	return out
}

func (b *bpe) hasBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if b.byteIDs[s[i]] < 0 {
			return false
		}
	}
	return true
}
