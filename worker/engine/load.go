package engine

import (
	"errors"
	"fmt"
	"io"

	"github.com/rbee-go/rbee/worker/engine/kernels"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// Options tune loading.
type Options struct {
	Threads int // compute goroutines; 0 = runtime.NumCPU()
	// MaxBatch bounds the tokens of one pass (0 = 256): a longer prompt is
	// prefilled in slices, each attending to the cache of the ones before
	// (the same result), so activation buffers stay small.
	MaxBatch int
}

// Model is a loaded decoder, safe for concurrent sessions.
type Model struct {
	cfg         Config
	embed       kernels.Matrix
	layers      []layerWeights
	norm        []float32
	lmHead      kernels.Matrix
	pool        *kernels.Pool
	maxBatch    int
	closer      io.Closer
	weightBytes int64
}

// Load reads dir/config.json (+ generation_config.json) and the safetensors
// weights of dir (model.safetensors or sharded with an index).
func Load(dir string, opts Options) (*Model, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	set, err := safetensors.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("load weights: %w", err)
	}
	m, err := New(cfg, set, opts)
	if err != nil {
		return nil, errors.Join(err, set.Close())
	}
	m.closer = set
	return m, nil
}

// New builds a model over weights from src, checking every tensor's shape
// against cfg. The weights are used in place; src must outlive the model.
func New(cfg Config, src TensorSource, opts Options) (*Model, error) {
	return build(cfg, &weightReader{src: src}, opts)
}

func build(cfg Config, r weightSource, opts Options) (*Model, error) {
	m := &Model{cfg: cfg, maxBatch: opts.MaxBatch}
	if m.maxBatch <= 0 {
		m.maxBatch = 256
	}
	var err error
	if m.embed, err = r.matrix("model.embed_tokens.weight", cfg.VocabSize, cfg.Hidden); err != nil {
		return nil, err
	}
	m.layers = make([]layerWeights, cfg.Layers)
	for i := range m.layers {
		if m.layers[i], err = loadLayer(r, cfg, i); err != nil {
			return nil, err
		}
	}
	if m.norm, err = r.vector("model.norm.weight", cfg.Hidden); err != nil {
		return nil, err
	}
	// Tied models use the embedding as lm_head, as transformers does even
	// when the file also carries an lm_head.weight.
	m.lmHead = m.embed
	if !cfg.TieEmbeddings {
		if m.lmHead, err = r.matrix("lm_head.weight", cfg.VocabSize, cfg.Hidden); err != nil {
			return nil, fmt.Errorf("%w (config has tie_word_embeddings false)", err)
		}
	}
	m.weightBytes = r.loadedBytes()
	m.pool = kernels.NewPool(opts.Threads)
	return m, nil
}

// Config returns the parsed configuration.
func (m *Model) Config() Config { return m.cfg }

// WeightBytes returns the bytes of weights the model uses.
func (m *Model) WeightBytes() int64 { return m.weightBytes }

// DecodeBytes returns the weight bytes one decode step streams: every layer,
// the final projection and one embedding row.
func (m *Model) DecodeBytes() int64 {
	var n int64
	for _, l := range m.layers {
		n += l.q.Bytes() + l.k.Bytes() + l.v.Bytes() + l.o.Bytes() + l.gate.Bytes() + l.up.Bytes() + l.down.Bytes()
	}
	row, _ := m.embed.DType.RowBytes(m.cfg.Hidden)
	return n + m.lmHead.Bytes() + int64(row)
}

// DecodeBuffers returns the weight bytes a decode step streams (layers and
// lm_head), for bandwidth probes.
func (m *Model) DecodeBuffers() [][]byte {
	var bufs [][]byte
	for _, l := range m.layers {
		for _, w := range []kernels.Matrix{l.q, l.k, l.v, l.o, l.gate, l.up, l.down} {
			bufs = append(bufs, w.Data)
		}
	}
	return append(bufs, m.lmHead.Data)
}

// Pool returns the model's compute pool (the benchmark probes bandwidth with it).
func (m *Model) Pool() *kernels.Pool { return m.pool }

// Mapped reports the bytes of the model's mapped weight files and how many
// of them the kernel maps in 2 MiB pages: a decode step streams them all,
// and in 4 KiB pages it walks ~500 times the page entries (0, 0 for
// weights that are not mapped files).
func (m *Model) Mapped() (bytes, huge int64) {
	if mp, ok := m.closer.(interface{ Mapped() (int64, int64) }); ok {
		return mp.Mapped()
	}
	return 0, 0
}

// Close stops the compute pool and releases the weights.
func (m *Model) Close() error {
	m.pool.Close()
	if m.closer != nil {
		return m.closer.Close()
	}
	return nil
}
