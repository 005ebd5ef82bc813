package server

import (
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
// tokenizer.json) or a single .safetensors file whose folder holds the
// config and tokenizer. Errors wrap ErrModel and say what is wrong where.
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
			return fail("%s: GGUF files are not supported by the Go worker; give a safetensors model folder", path)
		default:
			return fail("%s is neither a model folder nor a .safetensors file", path)
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
	eos := slices.Clone(cfg.EOS)
	if id, ok := tok.EOS(); ok && !slices.Contains(eos, id) {
		eos = append(eos, id)
	}
	if len(eos) == 0 {
		return fail("%s: no EOS token in config.json, generation_config.json or tokenizer_config.json", dir)
	}
	return &Backend{
		Name:      filepath.Base(dir),
		Model:     engineModel{m},
		Tokenizer: tokenizerAdapter{tok},
		EOS:       eos,
		Close:     func() error { return errors.Join(m.Close(), set.Close()) },
	}, nil
}

type engineModel struct{ m *engine.Model }

func (e engineModel) NewSession() Session   { return e.m.NewSession() }
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
