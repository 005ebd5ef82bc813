package server_test

import (
	"context"
	"errors"
	"sync"
	"unicode/utf8"

	"github.com/rbee-go/rbee/worker/server"
)

// Fake byte tokenizer: id = byte + 3; 0 = BOS, 1 = EOS, 2 = a special token.
const (
	fakeBOS = 0
	fakeEOS = 1
)

type byteTokenizer struct{}

func (byteTokenizer) Encode(text string, addSpecial bool) []int {
	var ids []int
	if addSpecial {
		ids = append(ids, fakeBOS)
	}
	for _, b := range []byte(text) {
		ids = append(ids, int(b)+3)
	}
	return ids
}

func (byteTokenizer) NewStreamDecoder([]int, bool) server.StreamDecoder { return &byteDecoder{} }

func idsOf(s string) []int { return byteTokenizer{}.Encode(s, false) }

type byteDecoder struct{ pending []byte }

func (d *byteDecoder) Push(id int) string {
	if id < 3 {
		return ""
	}
	d.pending = append(d.pending, byte(id-3))
	n := 0 // longest complete prefix
	for n < len(d.pending) {
		r, size := utf8.DecodeRune(d.pending[n:])
		if r == utf8.RuneError && size <= 1 && !utf8.FullRune(d.pending[n:]) {
			break
		}
		n += size
	}
	out := string(d.pending[:n])
	d.pending = d.pending[n:]
	return out
}

func (d *byteDecoder) Flush() string {
	out := string(d.pending)
	d.pending = nil
	return out
}

// scriptModel makes the script's ids the arg-max, one per step, then EOS.
type scriptModel struct {
	script  []int
	ctxLen  int
	vocab   int
	hook    func(step int) error // called at every Forward (step 0 = prefill); may block or fail
	mu      sync.Mutex
	prompts [][]int // the first Forward of every session
	steps   int     // total Forward calls
}

func (m *scriptModel) ContextLength() int { return m.ctxLen }
func (m *scriptModel) WeightBytes() int64 { return 4242 }
func (m *scriptModel) NewSession() server.Session {
	return &scriptSession{m: m}
}

func (m *scriptModel) setHook(h func(step int) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hook = h
}

func (m *scriptModel) stepsTaken() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.steps
}

type scriptSession struct {
	m    *scriptModel
	step int
	len  int
}

var errContext = errors.New("context exceeded")

// KVCacheBytes reports 100 bytes a cached position, as a growing cache would.
func (s *scriptSession) KVCacheBytes() int64 { return 100 * int64(s.len) }

func (s *scriptSession) ForwardContext(_ context.Context, tokens []int) ([]float32, error) {
	s.m.mu.Lock()
	if s.step == 0 {
		s.m.prompts = append(s.m.prompts, append([]int(nil), tokens...))
	}
	s.m.steps++
	s.m.mu.Unlock()
	s.m.mu.Lock()
	hook := s.m.hook
	s.m.mu.Unlock()
	if hook != nil {
		if err := hook(s.step); err != nil {
			return nil, err
		}
	}
	s.len += len(tokens)
	if s.len > s.m.ctxLen {
		return nil, errContext
	}
	next := fakeEOS
	if s.step < len(s.m.script) {
		next = s.m.script[s.step]
	}
	s.step++
	logits := make([]float32, s.m.vocab)
	logits[next] = 10
	return logits, nil
}

func newBackend(script string, ctxLen int) (*server.Backend, *scriptModel) {
	m := &scriptModel{script: idsOf(script), ctxLen: ctxLen, vocab: 259}
	return &server.Backend{Name: "fake", Model: m, Tokenizer: byteTokenizer{}, EOS: []int{fakeEOS}}, m
}
