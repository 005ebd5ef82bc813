package tinymodel

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"github.com/rbee-go/rbee"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// Files of a generated model folder (shards come in addition for sharded specs).
const (
	ConfigFile          = "config.json"
	GenerationFile      = "generation_config.json"
	TokenizerFile       = "tokenizer.json"
	TokenizerConfigFile = "tokenizer_config.json"
)

// Generate writes the tiny model of arch into dir (created if needed).
// The same seed always gives byte-identical files.
func Generate(dir string, arch Arch, seed int64) error {
	s, err := SpecFor(arch)
	if err != nil {
		return err
	}
	return GenerateSpec(dir, s, seed)
}

// GenerateAll writes the four tiny repos as root/rbee-testing/tiny-*.
func GenerateAll(root string, seed int64) error {
	for _, r := range Repos() {
		if err := Generate(filepath.Join(root, filepath.FromSlash(r.Repo)), r.Arch, seed); err != nil {
			return fmt.Errorf("%s: %w", r.Repo, err)
		}
	}
	return nil
}

// GenerateSpec writes an HF-style folder for any spec: config.json,
// generation_config.json, model.safetensors (or shards + index),
// tokenizer.json and tokenizer_config.json.
func GenerateSpec(dir string, s Spec, seed int64) error {
	tensors, err := Weights(s, seed)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tiny model: %w", err)
	}
	if s.ShardBytes > 0 {
		err = safetensors.WriteSharded(dir, tensors, s.ShardBytes)
	} else {
		err = safetensors.Write(filepath.Join(dir, safetensors.SingleFile), tensors, map[string]string{"format": "pt"})
	}
	if err != nil {
		return fmt.Errorf("tiny model: %w", err)
	}
	tok, tokCfg, err := tokenizerFiles(s.Tokenizer)
	if err != nil {
		return err
	}
	cfg, err := configJSON(s)
	if err != nil {
		return err
	}
	gen, err := generationJSON(s)
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{ConfigFile: cfg, GenerationFile: gen, TokenizerFile: tok, TokenizerConfigFile: tokCfg} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("tiny model: %w", err)
		}
	}
	return nil
}

// tokenizerFiles returns tokenizer.json (gunzipped) and tokenizer_config.json
// of a fixture family.
func tokenizerFiles(family string) (tok, cfg []byte, err error) {
	base := path.Join("testdata/tokenizers", family)
	gz, err := rbee.Tokenizers.Open(path.Join(base, "tokenizer.json.gz"))
	if err != nil {
		return nil, nil, fmt.Errorf("tiny model: tokenizer fixture: %w", err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		return nil, nil, fmt.Errorf("tiny model: tokenizer fixture %s: %w", family, err)
	}
	if tok, err = io.ReadAll(zr); err != nil {
		return nil, nil, fmt.Errorf("tiny model: tokenizer fixture %s: %w", family, err)
	}
	if cfg, err = rbee.Tokenizers.ReadFile(path.Join(base, "tokenizer_config.json")); err != nil {
		return nil, nil, fmt.Errorf("tiny model: tokenizer fixture: %w", err)
	}
	return tok, cfg, nil
}

// pyFloat spells a float the way Python's json.dumps does (10000.0,
// 1e-05), so config.json reads like one saved by transformers.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, fmt.Errorf("cannot encode %v", v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e16 {
		return []byte(strconv.FormatFloat(v, 'f', 1, 64)), nil
	}
	exp := math.Floor(math.Log10(math.Abs(v)))
	if exp < -4 || exp >= 16 {
		return []byte(strconv.FormatFloat(v, 'e', -1, 64)), nil
	}
	return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
}

var torchDType = map[safetensors.DType]string{safetensors.F32: "float32", safetensors.F16: "float16", safetensors.BF16: "bfloat16"}

// configJSON writes config.json with the field names transformers uses for
// the architecture, keys sorted and indented as transformers saves them.
func configJSON(s Spec) ([]byte, error) {
	c := map[string]any{
		"architectures":           []string{s.Architecture},
		"model_type":              s.ModelType,
		"hidden_act":              "silu",
		"hidden_size":             s.Hidden,
		"intermediate_size":       s.Intermediate,
		"num_hidden_layers":       s.Layers,
		"num_attention_heads":     s.Heads,
		"num_key_value_heads":     s.KVHeads,
		"max_position_embeddings": s.MaxPositions,
		"rms_norm_eps":            pyFloat(s.RMSEps),
		"rope_theta":              pyFloat(s.RopeTheta),
		"rope_scaling":            nil,
		"vocab_size":              s.VocabSize,
		"bos_token_id":            s.BOS,
		"eos_token_id":            s.EOS[0],
		"tie_word_embeddings":     s.Tie,
		"torch_dtype":             torchDType[s.DType],
		"initializer_range":       pyFloat(0.02),
		"attention_dropout":       pyFloat(0),
		"use_cache":               true,
		"transformers_version":    "4.44.2",
	}
	switch s.ModelType {
	case "llama":
		c["attention_bias"], c["mlp_bias"], c["pretraining_tp"] = false, false, 1
	case "qwen2":
		c["use_sliding_window"], c["max_window_layers"] = false, s.Layers
	case "phi3":
		c["attention_bias"], c["original_max_position_embeddings"] = false, s.MaxPositions
		c["embd_pdrop"], c["resid_pdrop"] = pyFloat(0), pyFloat(0)
	}
	if s.ModelType != "llama" {
		c["sliding_window"] = nil
		if s.SlidingWindow > 0 {
			c["sliding_window"] = s.SlidingWindow
		}
	}
	if s.Pad >= 0 {
		c["pad_token_id"] = s.Pad
	}
	return marshal(c)
}

// generationJSON writes generation_config.json (its eos list is what
// generation stops on, as in transformers).
func generationJSON(s Spec) ([]byte, error) {
	g := map[string]any{"_from_model_config": true, "bos_token_id": s.BOS, "transformers_version": "4.44.2"}
	if len(s.EOS) == 1 {
		g["eos_token_id"] = s.EOS[0]
	} else {
		g["eos_token_id"] = s.EOS
	}
	if s.Pad >= 0 {
		g["pad_token_id"] = s.Pad
	}
	return marshal(g)
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("tiny model: %w", err)
	}
	return b.Bytes(), nil
}
