// Package engine is the CPU transformer of the Go worker: it reads a Hugging
// Face model folder (config.json, safetensors weights), keeps the weights in
// their stored dtype, and runs the decoder forward pass for the Llama,
// Mistral, Qwen2 and Phi-3 families with a per-session KV cache.
package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Errors callers branch on (errors.Is).
var (
	ErrUnsupported     = errors.New("unsupported model")
	ErrBadConfig       = errors.New("invalid model config")
	ErrShapeMismatch   = errors.New("tensor shape mismatch")
	ErrMissingTensor   = errors.New("missing tensor")
	ErrContextExceeded = errors.New("context length exceeded")
	ErrBadToken        = errors.New("token id out of range")
)

// Architectures the engine runs.
const (
	ArchLlama   = "LlamaForCausalLM"
	ArchMistral = "MistralForCausalLM"
	ArchQwen2   = "Qwen2ForCausalLM"
	ArchPhi3    = "Phi3ForCausalLM"
)

// Config is the part of config.json the forward pass needs.
type Config struct {
	Architecture  string
	VocabSize     int
	Hidden        int
	Intermediate  int
	Layers        int
	Heads         int
	KVHeads       int
	HeadDim       int
	RotaryDim     int // head dims rotated by RoPE (partial_rotary_factor × HeadDim)
	MaxPositions  int
	SlidingWindow int // 0 = none; else a query attends to the last SlidingWindow positions
	RopeTheta     float64
	// RopeInterleaved rotates adjacent pairs (x[2i], x[2i+1]) as llama.cpp
	// does for GGUF "llama" files; false = HF rotate_half (NEOX).
	RopeInterleaved bool
	RMSEps          float64
	TieEmbeddings   bool
	QKVBias         bool // q/k/v projections carry a bias (Qwen2, Llama attention_bias)
	OBias           bool // o_proj carries a bias (Llama attention_bias)
	FusedQKV        bool // Phi-3 qkv_proj
	FusedGateUp     bool // Phi-3 gate_up_proj
	BOS             int  // -1 when unknown
	EOS             []int
}

// rawConfig mirrors config.json; pointers tell absent from zero.
type rawConfig struct {
	Architectures       []string        `json:"architectures"`
	ModelType           string          `json:"model_type"`
	VocabSize           int             `json:"vocab_size"`
	HiddenSize          int             `json:"hidden_size"`
	IntermediateSize    int             `json:"intermediate_size"`
	NumHiddenLayers     int             `json:"num_hidden_layers"`
	NumAttentionHeads   int             `json:"num_attention_heads"`
	NumKeyValueHeads    *int            `json:"num_key_value_heads"`
	HeadDim             *int            `json:"head_dim"`
	MaxPositions        *int            `json:"max_position_embeddings"`
	SlidingWindow       *int            `json:"sliding_window"`
	UseSlidingWindow    bool            `json:"use_sliding_window"`
	RopeTheta           *float64        `json:"rope_theta"`
	RopeScaling         json.RawMessage `json:"rope_scaling"`
	PartialRotaryFactor *float64        `json:"partial_rotary_factor"`
	RMSNormEps          *float64        `json:"rms_norm_eps"`
	TieWordEmbeddings   *bool           `json:"tie_word_embeddings"`
	AttentionBias       bool            `json:"attention_bias"`
	MLPBias             bool            `json:"mlp_bias"`
	HiddenAct           string          `json:"hidden_act"`
	BOSTokenID          json.RawMessage `json:"bos_token_id"`
	EOSTokenID          json.RawMessage `json:"eos_token_id"`
}

// archDefaults holds the transformers defaults for fields a config may omit.
var archDefaults = map[string]struct {
	maxPos int
	eps    float64
	tie    bool
}{
	ArchLlama:   {2048, 1e-6, false},
	ArchMistral: {4096 * 32, 1e-6, false},
	ArchQwen2:   {32768, 1e-6, false},
	ArchPhi3:    {4096, 1e-5, false},
}

// LoadConfig reads dir/config.json and, when present, the eos/bos ids of
// dir/generation_config.json (which take precedence, as in transformers).
func LoadConfig(dir string) (Config, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return Config{}, fmt.Errorf("read model config: %w", err)
	}
	gen, err := os.ReadFile(filepath.Join(dir, "generation_config.json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Config{}, fmt.Errorf("read generation config: %w", err)
	}
	return ParseConfig(data, gen)
}

// ParseConfig parses config.json bytes; generation may be nil.
func ParseConfig(configJSON, generationJSON []byte) (Config, error) {
	var rc rawConfig
	if err := json.Unmarshal(configJSON, &rc); err != nil {
		return Config{}, fmt.Errorf("%w: config.json: %w", ErrBadConfig, err)
	}
	if len(rc.Architectures) == 0 {
		return Config{}, fmt.Errorf("%w: config.json has no \"architectures\" entry", ErrBadConfig)
	}
	arch := rc.Architectures[0]
	def, ok := archDefaults[arch]
	if !ok {
		return Config{}, fmt.Errorf("%w: architecture %q (supported: %s, %s, %s, %s)", ErrUnsupported, arch, ArchLlama, ArchMistral, ArchQwen2, ArchPhi3)
	}
	c := Config{
		Architecture: arch, VocabSize: rc.VocabSize, Hidden: rc.HiddenSize, Intermediate: rc.IntermediateSize,
		Layers: rc.NumHiddenLayers, Heads: rc.NumAttentionHeads, KVHeads: rc.NumAttentionHeads,
		MaxPositions: def.maxPos, RopeTheta: 10000, RMSEps: def.eps, TieEmbeddings: def.tie, BOS: -1,
	}
	for name, v := range map[string]int{"vocab_size": c.VocabSize, "hidden_size": c.Hidden, "intermediate_size": c.Intermediate,
		"num_hidden_layers": c.Layers, "num_attention_heads": c.Heads} {
		if v <= 0 {
			return Config{}, fmt.Errorf("%w: %s must be > 0, got %d", ErrBadConfig, name, v)
		}
	}
	if rc.NumKeyValueHeads != nil {
		c.KVHeads = *rc.NumKeyValueHeads
	}
	if c.KVHeads <= 0 || c.Heads%c.KVHeads != 0 {
		return Config{}, fmt.Errorf("%w: num_attention_heads %d is not a multiple of num_key_value_heads %d", ErrBadConfig, c.Heads, c.KVHeads)
	}
	c.HeadDim = c.Hidden / c.Heads
	if rc.HeadDim != nil && *rc.HeadDim > 0 {
		c.HeadDim = *rc.HeadDim
	} else if c.Hidden%c.Heads != 0 {
		return Config{}, fmt.Errorf("%w: hidden_size %d is not a multiple of num_attention_heads %d", ErrBadConfig, c.Hidden, c.Heads)
	}
	c.RotaryDim = c.HeadDim
	if rc.PartialRotaryFactor != nil {
		c.RotaryDim = int(float64(c.HeadDim) * *rc.PartialRotaryFactor)
	}
	if c.RotaryDim <= 0 || c.RotaryDim > c.HeadDim || c.RotaryDim%2 != 0 {
		return Config{}, fmt.Errorf("%w: rotary dimension %d for head_dim %d (partial_rotary_factor)", ErrBadConfig, c.RotaryDim, c.HeadDim)
	}
	if rc.MaxPositions != nil {
		c.MaxPositions = *rc.MaxPositions
	}
	if c.MaxPositions <= 0 {
		return Config{}, fmt.Errorf("%w: max_position_embeddings must be > 0", ErrBadConfig)
	}
	if rc.RopeTheta != nil {
		c.RopeTheta = *rc.RopeTheta
	}
	if rc.RMSNormEps != nil {
		c.RMSEps = *rc.RMSNormEps
	}
	if rc.TieWordEmbeddings != nil {
		c.TieEmbeddings = *rc.TieWordEmbeddings
	}
	if err := checkRopeScaling(rc.RopeScaling); err != nil {
		return Config{}, err
	}
	if rc.HiddenAct != "" && rc.HiddenAct != "silu" {
		return Config{}, fmt.Errorf("%w: hidden_act %q (only silu)", ErrUnsupported, rc.HiddenAct)
	}
	if rc.MLPBias {
		return Config{}, fmt.Errorf("%w: mlp_bias true", ErrUnsupported)
	}
	switch arch {
	case ArchLlama:
		c.QKVBias, c.OBias = rc.AttentionBias, rc.AttentionBias
	case ArchQwen2:
		c.QKVBias = true
		if rc.UseSlidingWindow {
			return Config{}, fmt.Errorf("%w: Qwen2 use_sliding_window true (per-layer windows are not implemented)", ErrUnsupported)
		}
	case ArchMistral, ArchPhi3:
		// transformers applies sliding_window in attention for both.
		if rc.SlidingWindow != nil && *rc.SlidingWindow > 0 {
			c.SlidingWindow = *rc.SlidingWindow
		}
		c.FusedQKV, c.FusedGateUp = arch == ArchPhi3, arch == ArchPhi3
	}
	var err error
	if c.BOS, c.EOS, err = tokenIDs(rc.BOSTokenID, rc.EOSTokenID, generationJSON); err != nil {
		return Config{}, err
	}
	return c, nil
}

// checkRopeScaling accepts no scaling (null or type "default"); anything
// else (linear, dynamic, llama3, longrope, su, yarn) would silently give
// wrong logits, so it is refused by name.
func checkRopeScaling(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var rs struct {
		Type     string `json:"type"`
		RopeType string `json:"rope_type"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil {
		return fmt.Errorf("%w: rope_scaling: %w", ErrBadConfig, err)
	}
	kind := rs.RopeType
	if kind == "" {
		kind = rs.Type
	}
	if kind == "default" {
		return nil
	}
	return fmt.Errorf("%w: rope_scaling type %q (only plain RoPE; e.g. Phi-3 *-128k longrope models are not supported, use the 4k variants)", ErrUnsupported, kind)
}

// tokenIDs reads bos/eos from config.json, overridden by generation_config.json.
func tokenIDs(bosRaw, eosRaw json.RawMessage, generationJSON []byte) (int, []int, error) {
	bos, eos := -1, []int(nil)
	apply := func(b, e json.RawMessage, file string) error {
		if ids, err := intOrList(b); err != nil {
			return fmt.Errorf("%w: %s bos_token_id: %w", ErrBadConfig, file, err)
		} else if len(ids) > 0 {
			bos = ids[0]
		}
		ids, err := intOrList(e)
		if err != nil {
			return fmt.Errorf("%w: %s eos_token_id: %w", ErrBadConfig, file, err)
		}
		if len(ids) > 0 {
			eos = ids
		}
		return nil
	}
	if err := apply(bosRaw, eosRaw, "config.json"); err != nil {
		return 0, nil, err
	}
	if len(generationJSON) > 0 {
		var g struct {
			BOS json.RawMessage `json:"bos_token_id"`
			EOS json.RawMessage `json:"eos_token_id"`
		}
		if err := json.Unmarshal(generationJSON, &g); err != nil {
			return 0, nil, fmt.Errorf("%w: generation_config.json: %w", ErrBadConfig, err)
		}
		if err := apply(g.BOS, g.EOS, "generation_config.json"); err != nil {
			return 0, nil, err
		}
	}
	return bos, eos, nil
}

func intOrList(raw json.RawMessage) ([]int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, err
	}
	return many, nil
}
