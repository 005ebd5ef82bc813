// Package sample picks the next token from a model's logits: greedy at
// temperature 0, otherwise repetition penalty, temperature, top-k, top-p and
// min-p (the Hugging Face transformers order and semantics) with a seeded
// generator, so the same seed gives the same tokens.
package sample

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
)

// Params are the sampling knobs of an /execute request.
type Params struct {
	Temperature       float64 // 0 = greedy
	TopK              int     // 0 = off
	TopP              float64 // 1 = off
	MinP              float64 // 0 = off
	RepetitionPenalty float64 // 1 = off
}

// Sampler samples tokens for one generation. Not safe for concurrent use.
type Sampler struct {
	p     Params
	rng   *rand.Rand
	buf   []float32 // penalized logits
	probs []float64 // unnormalized probabilities (max = 1)
	cand  []int
	marks []bool // ids already penalized this step
}

// New returns a sampler; seed nil = a random seed.
func New(p Params, seed *uint64) *Sampler {
	s := rand.Uint64()
	if seed != nil {
		s = *seed
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:8], s)
	return &Sampler{p: p, rng: rand.New(rand.NewChaCha8(key))}
}

// Greedy reports whether the sampler always takes the arg-max.
func (s *Sampler) Greedy() bool { return s.p.Temperature == 0 }

// Sample returns the next token id. logits is not modified; seen are the ids
// of the sequence so far (prompt and generated), for the repetition penalty.
func (s *Sampler) Sample(logits []float32, seen []int) int {
	l := logits
	if s.p.RepetitionPenalty != 1 && s.p.RepetitionPenalty > 0 && len(seen) > 0 {
		s.buf = append(s.buf[:0], logits...)
		if cap(s.marks) < len(logits) {
			s.marks = make([]bool, len(logits))
		}
		s.marks = s.marks[:len(logits)]
		applyRepetitionPenalty(s.buf, seen, float32(s.p.RepetitionPenalty), s.marks)
		l = s.buf
	}
	if s.Greedy() {
		return Argmax(l)
	}
	return s.draw(l)
}

// ApplyRepetitionPenalty applies the HF penalty in place: once per distinct
// id in seen, a positive logit is divided by penalty, a negative multiplied.
func ApplyRepetitionPenalty(logits []float32, seen []int, penalty float32) {
	applyRepetitionPenalty(logits, seen, penalty, make([]bool, len(logits)))
}

func applyRepetitionPenalty(logits []float32, seen []int, penalty float32, marks []bool) {
	for _, id := range seen {
		if id < 0 || id >= len(logits) || marks[id] {
			continue
		}
		marks[id] = true
		if logits[id] > 0 {
			logits[id] /= penalty
		} else {
			logits[id] *= penalty
		}
	}
	for _, id := range seen { // reset for the next step
		if id >= 0 && id < len(marks) {
			marks[id] = false
		}
	}
}

// Argmax returns the index of the largest logit (the lowest index on ties;
// NaN never wins).
func Argmax(logits []float32) int {
	best, bestV := 0, float32(math.Inf(-1))
	for i, v := range logits {
		if v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// draw samples from softmax(logits/T) restricted by top-k, top-p and min-p.
func (s *Sampler) draw(logits []float32) int {
	n := len(logits)
	if cap(s.probs) < n {
		s.probs = make([]float64, n)
	}
	probs := s.probs[:n]
	invT := 1 / s.p.Temperature
	maxV := math.Inf(-1)
	for _, v := range logits {
		if x := float64(v) * invT; x > maxV {
			maxV = x
		}
	}
	if math.IsInf(maxV, 0) || math.IsNaN(maxV) {
		return Argmax(logits)
	}
	var total float64
	for i, v := range logits {
		p := math.Exp(float64(v)*invT - maxV) // NaN logits give NaN: excluded below
		if !(p > 0) {
			p = 0
		}
		probs[i] = p
		total += p
	}
	cand := s.candidates(probs, total)
	var sum float64
	for _, i := range cand {
		sum += probs[i]
	}
	u := s.rng.Float64() * sum
	for _, i := range cand {
		u -= probs[i]
		if u < 0 {
			return i
		}
	}
	return cand[len(cand)-1]
}

// candidates returns the ids that survive top-k, top-p and min-p. probs are
// unnormalized with max exactly 1 (exp(0)); total is their sum.
func (s *Sampler) candidates(probs []float64, total float64) []int {
	k, topP, minP := s.p.TopK, s.p.TopP, s.p.MinP
	if k >= len(probs) {
		k = 0
	}
	cand := s.cand[:0]
	if k > 0 || topP < 1 {
		cand = sortedCandidates(cand, probs, total, k, topP)
		if k > 0 {
			cand = cand[:k]
		}
		if topP < 1 {
			mass := total
			if k > 0 {
				mass = 0
				for _, i := range cand {
					mass += probs[i]
				}
			}
			// Keep the smallest head whose mass reaches topP (HF keeps a token
			// while the mass before it is below topP).
			var cum float64
			keep := 0
			for keep < len(cand) && cum < topP*mass {
				cum += probs[cand[keep]]
				keep++
			}
			cand = cand[:max(keep, 1)]
		}
	} else {
		for i, p := range probs {
			if p > 0 {
				cand = append(cand, i)
			}
		}
	}
	if minP > 0 { // relative to the most likely token, whose weight is 1
		kept := cand[:0]
		for _, i := range cand {
			if probs[i] >= minP {
				kept = append(kept, i)
			}
		}
		cand = kept
	}
	s.cand = cand
	return cand
}

// prefilterTau is the weight (relative to the top token) below which tokens
// are first left out of the sort; exactness is kept by checking that what
// remains still holds the top-k and the top-p mass, else sorting everything.
const prefilterTau = 1e-4

// sortedCandidates returns ids by weight, descending (ties: lower id first),
// holding at least the top k and a prefix with topP of the mass.
func sortedCandidates(cand []int, probs []float64, total float64, k int, topP float64) []int {
	var mass float64
	for i, p := range probs {
		if p >= prefilterTau {
			cand = append(cand, i)
			mass += p
		}
	}
	if (k > 0 && len(cand) < k) || (k == 0 && mass < topP*total) {
		cand = cand[:0]
		for i := range probs {
			cand = append(cand, i)
		}
	}
	slices.SortFunc(cand, func(a, b int) int {
		if c := cmp.Compare(probs[b], probs[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return cand
}
