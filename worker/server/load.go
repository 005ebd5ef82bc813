package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

// ErrModel marks a model that cannot be loaded (missing, corrupt, unsupported).
var ErrModel = errors.New("cannot load model")

// LoadOptions tune Load.
type LoadOptions struct {
	Threads int // compute goroutines; 0 = all cores
}

// Load loads a Hugging Face model folder (config.json, safetensors weights,
// tokenizer.json), a single .safetensors file whose folder holds the
// config and tokenizer, or a single .gguf file (weights, config and
// tokenizer in its metadata). Errors wrap ErrModel and say what is wrong where.
func Load(path string, opts LoadOptions) (*Backend, error) {
	fail := func(format string, args ...any) (*Backend, error) {
		return nil, fmt.Errorf("%w: %s", ErrModel, fmt.Sprintf(format, args...))
	}
	wrap := func(err error) (*Backend, error) { return nil, fmt.Errorf("%w: %w", ErrModel, err) }
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fail("%s does not exist", path)
	}
	if err != nil {
		return wrap(err)
	}
	dir, weights := path, path
	if !st.IsDir() {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".safetensors":
			dir = filepath.Dir(path)
		case ".gguf":
			return loadGGUF(path, opts)
		default:
			return fail("%s is neither a model folder nor a .safetensors or .gguf file", path)
		}
	}
	cfg, err := engine.LoadConfig(dir)
	if err != nil {
		return wrap(err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return wrap(err)
	}
	if tok.VocabSize() > cfg.VocabSize {
		return fail("%s: tokenizer has %d tokens but config.json vocab_size is %d", dir, tok.VocabSize(), cfg.VocabSize)
	}
	set, err := safetensors.Open(weights)
	if err != nil {
		return wrap(err)
	}
	m, err := engine.New(cfg, set, engine.Options{Threads: opts.Threads})
	if err != nil {
		return wrap(errors.Join(err, set.Close()))
	}
	b, err := newBackend(filepath.Base(dir), m, tok, func() error { return errors.Join(m.Close(), set.Close()) })
	if err != nil {
		return fail("%s: %v", dir, err)
	}
	return b, nil
}

// newBackend pairs a model with its tokenizer; generation stops on the
// model's EOS ids and the tokenizer's.
func newBackend(name string, m *engine.Model, tok *tokenizer.Tokenizer, closeFn func() error, moreEOS ...int) (*Backend, error) {
	eos := slices.Clone(m.Config().EOS)
	if id, ok := tok.EOS(); ok {
		moreEOS = append(moreEOS, id)
	}
	for _, id := range moreEOS {
		if !slices.Contains(eos, id) {
			eos = append(eos, id)
		}
	}
	if len(eos) == 0 {
		return nil, errors.Join(errors.New("no EOS token in the model's or the tokenizer's configuration"), closeFn())
	}
	return &Backend{
		Name:      name,
		Model:     engineModel{m, tok.VocabSize()},
		Tokenizer: tokenizerAdapter{tok},
		EOS:       eos,
		Close:     closeFn,
	}, nil
}

type engineModel struct {
	m     *engine.Model
	vocab int
}

// Mapped is the engine's split of mapped weight bytes (see engine.Model.Mapped).
func (e engineModel) Mapped() (bytes, huge int64) { return e.m.Mapped() }

func (e engineModel) NewSession() Session {
	return vocabSession{e.m.NewSession(), e.vocab}
}

type vocabSession struct {
	s     *engine.Session
	vocab int
}

func (v vocabSession) ForwardContext(ctx context.Context, tokens []int) ([]float32, error) {
	logits, err := v.s.ForwardContext(ctx, tokens)
	if err != nil {
		return nil, err
	}
	return logits[:min(v.vocab, len(logits))], nil
}

// KVCacheBytes reports the engine session's KV cache (for /health).
func (v vocabSession) KVCacheBytes() int64 { return v.s.KVCacheBytes() }

func (e engineModel) ContextLength() int    { return e.m.Config().MaxPositions }
func (e engineModel) WeightBytes() int64    { return e.m.WeightBytes() }
func (e engineModel) Config() engine.Config { return e.m.Config() }

// KVBytes implements KVSizer.
func (e engineModel) KVBytes(positions int) int64 { return e.m.Config().KVBytes(positions) }

type tokenizerAdapter struct{ t *tokenizer.Tokenizer }

func (a tokenizerAdapter) Encode(text string, addSpecial bool) []int {
	return a.t.Encode(text, addSpecial)
}
func (a tokenizerAdapter) NewStreamDecoder(context []int, skipSpecial bool) StreamDecoder {
	return a.t.NewStreamDecoderAfter(context, skipSpecial)
}
