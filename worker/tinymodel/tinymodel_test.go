package tinymodel_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee"
	"github.com/rbee-go/rbee/worker/safetensors"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

func TestRepos(t *testing.T) {
	repos := tinymodel.Repos()
	require.Len(t, repos, 4)
	want := map[string]string{"tiny-llama": "llama", "tiny-qwen2": "qwen", "tiny-phi3": "phi", "tiny-mistral": "mistral"}
	for _, r := range repos {
		assert.Equal(t, want[r.ID], r.Catalog, r.ID)
		assert.Equal(t, "rbee-testing/"+r.ID, r.Repo)
		s, err := tinymodel.SpecFor(r.Arch)
		require.NoError(t, err)
		assert.Equal(t, r.Architecture, s.Architecture)
	}
	for _, name := range []string{"tiny-phi3", "rbee-testing/tiny-phi3", "phi3"} {
		r, ok := tinymodel.Lookup(name)
		assert.True(t, ok, name)
		assert.Equal(t, tinymodel.Phi3, r.Arch, name)
	}
	_, ok := tinymodel.Lookup("tiny-gpt2")
	assert.False(t, ok)
	_, err := tinymodel.SpecFor("gpt2")
	assert.ErrorContains(t, err, `unknown arch "gpt2"`)
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = b
	}
	return out
}

func TestDeterministic(t *testing.T) {
	for _, r := range tinymodel.Repos() {
		t.Run(r.ID, func(t *testing.T) {
			a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
			require.NoError(t, tinymodel.Generate(a, r.Arch, 7))
			require.NoError(t, tinymodel.Generate(b, r.Arch, 7))
			require.NoError(t, tinymodel.Generate(c, r.Arch, 8))
			fa, fb, fc := readDir(t, a), readDir(t, b), readDir(t, c)
			require.Equal(t, len(fa), len(fb))
			for name, data := range fa {
				assert.True(t, bytes.Equal(data, fb[name]), "%s differs for the same seed", name)
			}
			weights := safetensors.SingleFile
			if _, ok := fa[weights]; !ok {
				weights = safetensors.ShardName(1, 2)
			}
			assert.False(t, bytes.Equal(fa[weights], fc[weights]), "another seed must give other weights")
		})
	}
}

type config struct {
	Architectures    []string `json:"architectures"`
	ModelType        string   `json:"model_type"`
	VocabSize        int      `json:"vocab_size"`
	Hidden           int      `json:"hidden_size"`
	Intermediate     int      `json:"intermediate_size"`
	Layers           int      `json:"num_hidden_layers"`
	Heads            int      `json:"num_attention_heads"`
	KVHeads          int      `json:"num_key_value_heads"`
	MaxPositions     int      `json:"max_position_embeddings"`
	RMSEps           float64  `json:"rms_norm_eps"`
	RopeTheta        float64  `json:"rope_theta"`
	BOS              int      `json:"bos_token_id"`
	EOS              int      `json:"eos_token_id"`
	Tie              bool     `json:"tie_word_embeddings"`
	TorchDType       string   `json:"torch_dtype"`
	SlidingWindow    *int     `json:"sliding_window"`
	UseSlidingWindow *bool    `json:"use_sliding_window"`
}

func TestFolders(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, tinymodel.GenerateAll(root, tinymodel.DefaultSeed))
	for _, r := range tinymodel.Repos() {
		t.Run(r.ID, func(t *testing.T) {
			dir := filepath.Join(root, "rbee-testing", r.ID)
			spec, err := tinymodel.SpecFor(r.Arch)
			require.NoError(t, err)

			var c config
			raw, err := os.ReadFile(filepath.Join(dir, tinymodel.ConfigFile))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &c))
			assert.Equal(t, []string{r.Architecture}, c.Architectures)
			assert.Equal(t, spec.VocabSize, c.VocabSize)
			assert.Equal(t, spec.Hidden, c.Hidden)
			assert.Equal(t, spec.KVHeads, c.KVHeads)
			assert.Equal(t, spec.EOS[0], c.EOS)
			assert.Equal(t, spec.Tie, c.Tie)
			assert.Equal(t, map[safetensors.DType]string{"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[spec.DType], c.TorchDType)
			assert.Positive(t, c.RMSEps)
			assert.Positive(t, c.RopeTheta)

			// the tokenizer is the real fixture, and the vocab fits it
			fam := map[tinymodel.Arch]string{tinymodel.Qwen2: tinymodel.ByteLevel}[r.Arch]
			if fam == "" {
				fam = tinymodel.SPM
			}
			tok, err := os.ReadFile(filepath.Join(dir, tinymodel.TokenizerFile))
			require.NoError(t, err)
			gz, err := rbee.Tokenizers.Open("testdata/tokenizers/" + fam + "/tokenizer.json.gz")
			require.NoError(t, err)
			zr, err := gzip.NewReader(gz)
			require.NoError(t, err)
			want, err := io.ReadAll(zr)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, tok), "tokenizer.json is the gunzipped fixture")
			var tj struct {
				Model struct {
					Vocab map[string]int `json:"vocab"`
				} `json:"model"`
				Added []struct {
					ID int `json:"id"`
				} `json:"added_tokens"`
			}
			require.NoError(t, json.Unmarshal(tok, &tj))
			maxID := 0
			for _, id := range tj.Model.Vocab {
				maxID = max(maxID, id)
			}
			for _, a := range tj.Added {
				maxID = max(maxID, a.ID)
			}
			assert.Equal(t, c.VocabSize, maxID+1, "vocab_size covers exactly the tokenizer's ids")
			assert.Less(t, c.BOS, c.VocabSize)
			assert.Less(t, c.EOS, c.VocabSize)
			assert.FileExists(t, filepath.Join(dir, tinymodel.TokenizerConfigFile))
			assert.FileExists(t, filepath.Join(dir, tinymodel.GenerationFile))

			checkWeights(t, dir, spec)
		})
	}
}

func checkWeights(t *testing.T, dir string, s tinymodel.Spec) {
	set, err := safetensors.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = set.Close() })
	hd := s.Hidden / s.Heads
	shapes := map[string][]int{
		"model.embed_tokens.weight": {s.VocabSize, s.Hidden},
		"model.norm.weight":         {s.Hidden},
	}
	if !s.Tie {
		shapes["lm_head.weight"] = []int{s.VocabSize, s.Hidden}
	}
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		shapes[p+"input_layernorm.weight"] = []int{s.Hidden}
		shapes[p+"post_attention_layernorm.weight"] = []int{s.Hidden}
		shapes[p+"self_attn.o_proj.weight"] = []int{s.Hidden, s.Heads * hd}
		shapes[p+"mlp.down_proj.weight"] = []int{s.Hidden, s.Intermediate}
		if s.Fused {
			shapes[p+"self_attn.qkv_proj.weight"] = []int{(s.Heads + 2*s.KVHeads) * hd, s.Hidden}
			shapes[p+"mlp.gate_up_proj.weight"] = []int{2 * s.Intermediate, s.Hidden}
		} else {
			for _, n := range []string{"q", "k", "v"} {
				rows := s.KVHeads * hd
				if n == "q" {
					rows = s.Heads * hd
				}
				shapes[p+"self_attn."+n+"_proj.weight"] = []int{rows, s.Hidden}
				if s.QKVBias {
					shapes[p+"self_attn."+n+"_proj.bias"] = []int{rows}
				}
			}
			shapes[p+"mlp.gate_proj.weight"] = []int{s.Intermediate, s.Hidden}
			shapes[p+"mlp.up_proj.weight"] = []int{s.Intermediate, s.Hidden}
		}
	}
	assert.Len(t, set.Names(), len(shapes), "no extra tensors: %v", set.Names())
	for name, shape := range shapes {
		tn, ok := set.Tensor(name)
		if !assert.True(t, ok, name) {
			continue
		}
		assert.Equal(t, shape, tn.Shape, name)
		assert.Equal(t, s.DType, tn.DType, name)
	}

	// value scales: norms around 1, projections ~1/sqrt(fan_in)
	norm, _ := set.Tensor("model.layers.0.input_layernorm.weight")
	m, sd := stats(t, norm)
	assert.InDelta(t, 1, m, 0.05)
	assert.InDelta(t, 0.1, sd, 0.03)
	down, _ := set.Tensor("model.layers.1.mlp.down_proj.weight")
	m, sd = stats(t, down)
	assert.InDelta(t, 0, m, 0.01)
	assert.InDelta(t, 1/math.Sqrt(float64(s.Intermediate)), sd, 0.01)
}

func stats(t *testing.T, tn safetensors.Tensor) (mean, std float64) {
	v, err := safetensors.ToF32(tn)
	require.NoError(t, err)
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

func TestGenerateErrors(t *testing.T) {
	assert.ErrorContains(t, tinymodel.Generate(t.TempDir(), "bloom", 1), "unknown arch")
	s, err := tinymodel.SpecFor(tinymodel.Llama)
	require.NoError(t, err)
	s.Heads = 3
	assert.ErrorContains(t, tinymodel.GenerateSpec(t.TempDir(), s, 1), "do not divide")
	s, _ = tinymodel.SpecFor(tinymodel.Llama)
	s.DType = "I8"
	assert.ErrorIs(t, tinymodel.GenerateSpec(t.TempDir(), s, 1), safetensors.ErrUnsupportedDType)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	assert.Error(t, tinymodel.Generate(filepath.Join(file, "sub"), tinymodel.Llama, 1))
}
