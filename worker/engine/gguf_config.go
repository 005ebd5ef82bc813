package engine

import "fmt"

// GGUF architectures (general.architecture) the engine runs. Mistral's
// GGUF files are "llama".
const (
	GGUFLlama = "llama"
	GGUFQwen2 = "qwen2"
	GGUFPhi3  = "phi3"
)

// ggufArch maps a GGUF architecture to the engine's (HF) architecture.
var ggufArch = map[string]string{GGUFLlama: ArchLlama, GGUFQwen2: ArchQwen2, GGUFPhi3: ArchPhi3}

// ggufMeta is the metadata a GGUF config is read from (a *gguf.File):
// typed getters that fail naming a missing key (errors.Is ErrMissingKey of
// the reader, reported through missing).
type ggufMeta interface {
	String(key string) (string, error)
	Uint(key string) (uint64, error)
	Float(key string) (float64, error)
}

// ggufConfig reads the model hyperparameters of a GGUF file; missing
// reports whether an error means an absent key (optional keys take their
// defaults then). vocab is the row count of token_embd; tied says the
// file has no output.weight.
func ggufConfig(md ggufMeta, missing func(error) bool, vocab int, tied bool) (Config, error) {
	archName, err := md.String("general.architecture")
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	arch, ok := ggufArch[archName]
	if !ok {
		return Config{}, fmt.Errorf("%w: GGUF architecture %q (supported: %s, %s, %s)", ErrUnsupported, archName, GGUFLlama, GGUFQwen2, GGUFPhi3)
	}
	key := func(k string) string { return archName + "." + k }
	var firstErr error
	req := func(k string) int {
		v, err := md.Uint(key(k))
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%w: %w", ErrBadConfig, err)
		}
		return int(v)
	}
	opt := func(k string, def int) int {
		v, err := md.Uint(key(k))
		switch {
		case err == nil:
			return int(v)
		case !missing(err) && firstErr == nil:
			firstErr = fmt.Errorf("%w: %w", ErrBadConfig, err)
		}
		return def
	}
	optF := func(k string, def float64) float64 {
		v, err := md.Float(key(k))
		switch {
		case err == nil:
			return v
		case !missing(err) && firstErr == nil:
			firstErr = fmt.Errorf("%w: %w", ErrBadConfig, err)
		}
		return def
	}
	c := Config{Architecture: arch, VocabSize: vocab, BOS: -1, TieEmbeddings: tied,
		MaxPositions: req("context_length"), Hidden: req("embedding_length"), Layers: req("block_count"),
		Intermediate: req("feed_forward_length"), Heads: req("attention.head_count")}
	eps, err := md.Float(key("attention.layer_norm_rms_epsilon"))
	if err != nil && firstErr == nil {
		firstErr = fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if firstErr != nil {
		return Config{}, firstErr
	}
	c.RMSEps = eps
	c.KVHeads = opt("attention.head_count_kv", c.Heads)
	c.RopeTheta = optF("rope.freq_base", 10000)
	c.SlidingWindow = opt("attention.sliding_window", 0)
	if firstErr != nil {
		return Config{}, firstErr
	}
	for name, v := range map[string]int{"context_length": c.MaxPositions, "embedding_length": c.Hidden, "block_count": c.Layers,
		"feed_forward_length": c.Intermediate, "attention.head_count": c.Heads, "vocabulary (token_embd rows)": c.VocabSize} {
		if v <= 0 {
			return Config{}, fmt.Errorf("%w: %s must be > 0, got %d", ErrBadConfig, key(name), v)
		}
	}
	if c.KVHeads <= 0 || c.Heads%c.KVHeads != 0 {
		return Config{}, fmt.Errorf("%w: %s %d is not a multiple of %s %d", ErrBadConfig, key("attention.head_count"), c.Heads, key("attention.head_count_kv"), c.KVHeads)
	}
	if c.Hidden%c.Heads != 0 {
		return Config{}, fmt.Errorf("%w: %s %d is not a multiple of %s %d", ErrBadConfig, key("embedding_length"), c.Hidden, key("attention.head_count"), c.Heads)
	}
	c.HeadDim = opt("attention.key_length", c.Hidden/c.Heads)
	c.RotaryDim = opt("rope.dimension_count", c.HeadDim)
	if firstErr != nil {
		return Config{}, firstErr
	}
	if c.RotaryDim <= 0 || c.RotaryDim > c.HeadDim || c.RotaryDim%2 != 0 {
		return Config{}, fmt.Errorf("%w: %s %d for head size %d", ErrBadConfig, key("rope.dimension_count"), c.RotaryDim, c.HeadDim)
	}
	if s, err := md.String(key("rope.scaling.type")); err == nil && s != "none" {
		return Config{}, fmt.Errorf("%w: %s %q (only plain RoPE)", ErrUnsupported, key("rope.scaling.type"), s)
	} else if err != nil && !missing(err) {
		return Config{}, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	switch arch {
	case ArchLlama:
		// llama.cpp rotates adjacent pairs for llama: the converter stores
		// q/k rows in the original order, not HF's permuted one.
		c.RopeInterleaved = true
		c.SlidingWindow = 0 // llama.cpp's llama graph has no window
	case ArchQwen2:
		c.QKVBias = true
		c.SlidingWindow = 0 // Qwen2 windows are off unless use_sliding_window, which GGUF does not carry
	case ArchPhi3:
		// Phi-3's window as in transformers (see TestPhi3SlidingWindowEdge);
		// llama.cpp ignores it, which differs beyond 2047 positions only.
		c.FusedQKV, c.FusedGateUp = true, true
	}
	return c, nil
}
