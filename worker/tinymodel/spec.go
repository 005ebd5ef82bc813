// Package tinymodel writes deterministic tiny Hugging Face model folders
// (random weights, real architectures, real tokenizers) for the four
// architectures the Go worker runs: the tiny-* models of DESIGN §6 that the
// hub mirror serves and the matrix runs.
package tinymodel

import (
	"fmt"

	"github.com/rbee-go/rbee/worker/safetensors"
)

// Arch names a tiny model family.
type Arch string

// The four tiny architectures.
const (
	Llama   Arch = "llama"
	Qwen2   Arch = "qwen2"
	Phi3    Arch = "phi3"
	Mistral Arch = "mistral"
)

// Org is the hub organisation the tiny repos live under.
const Org = "rbee-testing"

// DefaultSeed is the seed the hub mirror and the matrix use.
const DefaultSeed int64 = 42

// Tokenizer fixture families (folders of rbee.Tokenizers).
const (
	SPM       = "spm-bpe-32k"
	ByteLevel = "bytelevel-bpe-152k"
)

// Repo describes one tiny model repository.
type Repo struct {
	ID           string // model id, e.g. "tiny-llama"
	Repo         string // hub repo, e.g. "rbee-testing/tiny-llama"
	Arch         Arch   // generator family
	Architecture string // config.json architectures[0], e.g. "LlamaForCausalLM"
	Catalog      string // catalog architecture: llama, qwen, phi, mistral
}

// Repos lists the four tiny repos in a fixed order.
func Repos() []Repo {
	return []Repo{
		{ID: "tiny-llama", Repo: Org + "/tiny-llama", Arch: Llama, Architecture: "LlamaForCausalLM", Catalog: "llama"},
		{ID: "tiny-qwen2", Repo: Org + "/tiny-qwen2", Arch: Qwen2, Architecture: "Qwen2ForCausalLM", Catalog: "qwen"},
		{ID: "tiny-phi3", Repo: Org + "/tiny-phi3", Arch: Phi3, Architecture: "Phi3ForCausalLM", Catalog: "phi"},
		{ID: "tiny-mistral", Repo: Org + "/tiny-mistral", Arch: Mistral, Architecture: "MistralForCausalLM", Catalog: "mistral"},
	}
}

// Lookup finds a tiny repo by model id ("tiny-llama"), hub repo
// ("rbee-testing/tiny-llama") or arch ("llama").
func Lookup(name string) (Repo, bool) {
	for _, r := range Repos() {
		if name == r.ID || name == r.Repo || name == string(r.Arch) {
			return r, true
		}
	}
	return Repo{}, false
}

// Spec is everything the generator needs to write one model. The tiny
// specs come from SpecFor; benchmarks may build bigger ones.
type Spec struct {
	Arch          Arch
	Architecture  string // config.json architectures[0]
	ModelType     string // config.json model_type
	Tokenizer     string // SPM or ByteLevel
	VocabSize     int
	Hidden        int
	Intermediate  int
	Layers        int
	Heads         int
	KVHeads       int
	MaxPositions  int
	SlidingWindow int // 0 = null
	RopeTheta     float64
	RMSEps        float64
	Tie           bool // tie_word_embeddings: no lm_head.weight is written
	QKVBias       bool // Qwen2 q/k/v biases
	Fused         bool // Phi-3 qkv_proj and gate_up_proj
	DType         safetensors.DType
	BOS           int
	EOS           []int // generation_config eos ids; config.json gets the first
	Pad           int   // -1 = null
	ShardBytes    int64 // > 0: write shards of at most this many bytes
}

// SpecFor returns the tiny spec of an architecture. Sizes: hidden 64 (32
// for Qwen2, whose 151669-row embedding dominates), 2 layers, 4 heads,
// intermediate 128; dtypes BF16 (llama, qwen2), F16 (phi3), F32 (mistral,
// written as shards) so every load path is exercised.
func SpecFor(arch Arch) (Spec, error) {
	base := Spec{Arch: arch, Tokenizer: SPM, VocabSize: 32000, Hidden: 64, Intermediate: 128, Layers: 2,
		Heads: 4, KVHeads: 2, RMSEps: 1e-5, RopeTheta: 10000, DType: safetensors.BF16, BOS: 1, EOS: []int{2}, Pad: -1}
	switch arch {
	case Llama:
		base.Architecture, base.ModelType, base.MaxPositions = "LlamaForCausalLM", "llama", 2048
	case Qwen2:
		base.Architecture, base.ModelType, base.MaxPositions = "Qwen2ForCausalLM", "qwen2", 32768
		base.Tokenizer, base.VocabSize, base.Hidden = ByteLevel, 151669, 32
		base.RMSEps, base.RopeTheta, base.Tie, base.QKVBias = 1e-6, 1e6, true, true
		base.BOS, base.EOS, base.Pad = 151643, []int{151645, 151643}, 151643
		base.SlidingWindow = 32768 // present but off (use_sliding_window false), as in Qwen2.5
	case Phi3:
		base.Architecture, base.ModelType, base.MaxPositions = "Phi3ForCausalLM", "phi3", 4096
		base.KVHeads, base.Fused, base.DType = 4, true, safetensors.F16 // MHA like Phi-3-mini
		base.SlidingWindow = 2047                                       // as in Phi-3-mini-4k
	case Mistral:
		base.Architecture, base.ModelType, base.MaxPositions = "MistralForCausalLM", "mistral", 512
		base.RopeTheta, base.DType = 1e6, safetensors.F32
		base.SlidingWindow = 32      // small, so prompts longer than it exercise the window
		base.ShardBytes = 10_000_000 // two shards + index, like the real sharded repos
	default:
		return Spec{}, fmt.Errorf("tiny model: unknown arch %q (known: llama, qwen2, phi3, mistral)", arch)
	}
	return base, nil
}

// HeadDim returns Hidden / Heads.
func (s Spec) HeadDim() int { return s.Hidden / s.Heads }

func (s Spec) validate() error {
	if s.Hidden <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.Layers <= 0 || s.Intermediate <= 0 || s.VocabSize <= 0 {
		return fmt.Errorf("tiny model: sizes must be positive: %+v", s)
	}
	if s.Hidden%s.Heads != 0 || s.Heads%s.KVHeads != 0 || s.HeadDim()%2 != 0 {
		return fmt.Errorf("tiny model: hidden %d, heads %d, kv heads %d do not divide (head dim must be even)", s.Hidden, s.Heads, s.KVHeads)
	}
	if _, err := s.DType.Size(); err != nil {
		return fmt.Errorf("tiny model: %w", err)
	}
	if s.Tokenizer != SPM && s.Tokenizer != ByteLevel {
		return fmt.Errorf("tiny model: unknown tokenizer family %q", s.Tokenizer)
	}
	return nil
}
