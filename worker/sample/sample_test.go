package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seed(s uint64) *uint64 { return &s }

func logitsOf(probs ...float64) []float32 {
	l := make([]float32, len(probs))
	for i, p := range probs {
		l[i] = float32(math.Log(p))
	}
	return l
}

func base() Params { return Params{Temperature: 1, TopP: 1, RepetitionPenalty: 1} }

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name   string
		logits []float32
		want   int
	}{
		{"max in middle", []float32{1, 3, 2}, 1},
		{"ties take the lowest id", []float32{1, 3, 3}, 1},
		{"negative", []float32{-5, -1, -3}, 1},
		{"NaN never wins", []float32{nan, -1, nan}, 1},
		{"-inf masked", []float32{float32(math.Inf(-1)), -100}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, Argmax(tt.logits)) })
	}
}

func TestRepetitionPenaltyHFSemantics(t *testing.T) {
	l := []float32{2, -2, 1, 4}
	// id 0 twice: penalized once; id 3 never seen.
	ApplyRepetitionPenalty(l, []int{0, 1, 0, 2, 99, -1}, 2)
	assert.Equal(t, []float32{1, -4, 0.5, 4}, l)
}

func TestGreedy(t *testing.T) {
	p := base()
	p.Temperature = 0
	logits := []float32{0.1, 5, 4.9, -1}
	s := New(p, nil)
	for range 20 {
		assert.Equal(t, 1, s.Sample(logits, nil), "greedy ignores the random generator")
	}
	// With a penalty on the seen id 1, the greedy choice moves to id 2.
	p.RepetitionPenalty = 1.1
	s = New(p, nil)
	assert.Equal(t, 2, s.Sample(logits, []int{1}))
	assert.Equal(t, []float32{0.1, 5, 4.9, -1}, logits, "Sample must not modify the caller's logits")
}

// frequencies draws n samples and returns the share of each id.
func frequencies(s *Sampler, logits []float32, n int) []float64 {
	f := make([]float64, len(logits))
	for range n {
		f[s.Sample(logits, nil)]++
	}
	for i := range f {
		f[i] /= float64(n)
	}
	return f
}

func TestDistribution(t *testing.T) {
	const n = 20000
	const tol = 0.02
	logits := logitsOf(0.5, 0.3, 0.15, 0.05)
	tests := []struct {
		name string
		mod  func(*Params)
		want []float64
	}{
		{"plain softmax", func(p *Params) {}, []float64{0.5, 0.3, 0.15, 0.05}},
		{"top-k 1 is greedy", func(p *Params) { p.TopK = 1 }, []float64{1, 0, 0, 0}},
		{"top-k 2 renormalizes", func(p *Params) { p.TopK = 2 }, []float64{0.625, 0.375, 0, 0}},
		{"top-k above vocab is off", func(p *Params) { p.TopK = 10 }, []float64{0.5, 0.3, 0.15, 0.05}},
		{"top-p 0.5 keeps the head only", func(p *Params) { p.TopP = 0.5 }, []float64{1, 0, 0, 0}},
		{"top-p 0.6 keeps two", func(p *Params) { p.TopP = 0.6 }, []float64{0.625, 0.375, 0, 0}},
		{"top-p 0.9 keeps three", func(p *Params) { p.TopP = 0.9 }, []float64{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},
		{"top-k 3 then top-p 0.8 of that mass", func(p *Params) { p.TopK = 3; p.TopP = 0.8 }, []float64{0.625, 0.375, 0, 0}},
		{"min-p 0.5 keeps weight >= 0.25", func(p *Params) { p.MinP = 0.5 }, []float64{0.625, 0.375, 0, 0}},
		{"min-p 0.2 keeps weight >= 0.1", func(p *Params) { p.MinP = 0.2 }, []float64{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},
		{"temperature 0.5 sharpens (p^2)", func(p *Params) { p.Temperature = 0.5 }, []float64{0.25 / 0.365, 0.09 / 0.365, 0.0225 / 0.365, 0.0025 / 0.365}},
		{"huge temperature flattens", func(p *Params) { p.Temperature = 1e6 }, []float64{0.25, 0.25, 0.25, 0.25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.mod(&p)
			got := frequencies(New(p, seed(7)), logits, n)
			for i := range got {
				assert.InDelta(t, tt.want[i], got[i], tol, "id %d: got %v, want %v", i, got, tt.want)
			}
		})
	}
}

func TestRepetitionPenaltyShiftsSampling(t *testing.T) {
	p := base()
	p.RepetitionPenalty = 1e6 // a seen positive logit becomes ~0; the seen negative one vanishes
	logits := []float32{5, 5, -1}
	s := New(p, seed(1))
	for range 200 {
		assert.NotEqual(t, 0, s.Sample(logits, []int{0, 2}))
	}
}

func TestDeterminism(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	run := func(sd *uint64, p Params) []int {
		s := New(p, sd)
		var out []int
		seen := []int{}
		for range 50 {
			id := s.Sample(logits, seen)
			out = append(out, id)
			seen = append(seen, id)
		}
		return out
	}
	p := Params{Temperature: 1.5, TopK: 50, TopP: 0.95, MinP: 0.01, RepetitionPenalty: 1.2}
	a, b := run(seed(42), p), run(seed(42), p)
	assert.Equal(t, a, b, "same seed, same tokens")
	assert.NotEqual(t, a, run(seed(43), p), "another seed, other tokens")
	assert.NotEqual(t, run(nil, p), run(nil, p), "no seed: random")
}

// TestPrefilterExact checks that the pre-filtered sort of large vocabularies
// keeps exactly the candidates a full sort keeps.
func TestPrefilterExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, spread := range []float64{0.5, 3, 12} {
		logits := make([]float32, 50000)
		for i := range logits {
			logits[i] = float32(r.NormFloat64() * spread)
		}
		for _, p := range []Params{
			{Temperature: 1, TopP: 0.9},
			{Temperature: 1, TopP: 0.999},
			{Temperature: 0.7, TopK: 40, TopP: 1},
			{Temperature: 1, TopK: 20000, TopP: 1},
			{Temperature: 2, TopK: 100, TopP: 0.5},
		} {
			s := New(p, seed(1))
			probs, total := weights(logits, p.Temperature)
			got := slices.Clone(s.candidates(probs, total))
			want := naiveCandidates(probs, total, p)
			require.Equal(t, want, got, "spread %v params %+v", spread, p)
		}
	}
}

func weights(logits []float32, temp float64) ([]float64, float64) {
	maxV := math.Inf(-1)
	for _, v := range logits {
		maxV = math.Max(maxV, float64(v)/temp)
	}
	probs := make([]float64, len(logits))
	var total float64
	for i, v := range logits {
		probs[i] = math.Exp(float64(v)/temp - maxV)
		total += probs[i]
	}
	return probs, total
}

// naiveCandidates is the reference: sort everything, then cut.
func naiveCandidates(probs []float64, total float64, p Params) []int {
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	mass := total
	if p.TopK > 0 && p.TopK < len(idx) {
		idx = idx[:p.TopK]
		mass = 0
		for _, i := range idx {
			mass += probs[i]
		}
	}
	if p.TopP < 1 {
		var cum float64
		n := 0
		for n < len(idx) && cum < p.TopP*mass {
			cum += probs[idx[n]]
			n++
		}
		idx = idx[:n]
	}
	return idx
}

func BenchmarkSample(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	logits := make([]float32, 151669)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 4)
	}
	for _, bc := range []struct {
		name string
		p    Params
	}{
		{"greedy", Params{Temperature: 0, TopP: 1, RepetitionPenalty: 1}},
		{"softmax", Params{Temperature: 1, TopP: 1, RepetitionPenalty: 1}},
		{"top-p-0.9", Params{Temperature: 0.8, TopP: 0.9, RepetitionPenalty: 1.1}},
		{"top-k-40", Params{Temperature: 0.8, TopK: 40, TopP: 1, RepetitionPenalty: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := New(bc.p, seed(1))
			seen := []int{1, 2, 3, 500, 1000}
			for b.Loop() {
				s.Sample(logits, seen)
			}
		})
	}
}
