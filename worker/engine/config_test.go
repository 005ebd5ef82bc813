package engine_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
)

func TestParseConfig(t *testing.T) {
	tinyLlama := `{"architectures":["LlamaForCausalLM"],"hidden_size":2048,"intermediate_size":5632,"max_position_embeddings":2048,
		"num_attention_heads":32,"num_hidden_layers":22,"num_key_value_heads":4,"rms_norm_eps":1e-05,"rope_scaling":null,
		"rope_theta":10000.0,"tie_word_embeddings":false,"vocab_size":32000,"bos_token_id":1,"eos_token_id":2,"hidden_act":"silu"}`
	qwen := `{"architectures":["Qwen2ForCausalLM"],"hidden_size":896,"intermediate_size":4864,"max_position_embeddings":32768,
		"num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_theta":1000000.0,
		"sliding_window":32768,"use_sliding_window":false,"tie_word_embeddings":true,"vocab_size":151936,"eos_token_id":151643}`
	phi3 := `{"architectures":["Phi3ForCausalLM"],"hidden_size":3072,"intermediate_size":8192,"max_position_embeddings":4096,
		"num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":32,"rope_scaling":null,"sliding_window":2047,
		"vocab_size":32064,"eos_token_id":32000}`
	mistral := `{"architectures":["MistralForCausalLM"],"hidden_size":4096,"intermediate_size":14336,"max_position_embeddings":32768,
		"num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"rope_theta":1000000.0,"sliding_window":null,
		"vocab_size":32000,"head_dim":128}`
	cases := []struct {
		name, cfg, gen string
		check          func(*testing.T, engine.Config)
	}{
		{"tinyllama", tinyLlama, "", func(t *testing.T, c engine.Config) {
			require.Equal(t, engine.Config{Architecture: engine.ArchLlama, VocabSize: 32000, Hidden: 2048, Intermediate: 5632, Layers: 22,
				Heads: 32, KVHeads: 4, HeadDim: 64, RotaryDim: 64, MaxPositions: 2048, RopeTheta: 10000, RMSEps: 1e-5, BOS: 1, EOS: []int{2}}, c)
		}},
		{"qwen2 ignores sliding_window unless used", qwen, `{"bos_token_id":151643,"eos_token_id":[151645,151643]}`, func(t *testing.T, c engine.Config) {
			require.True(t, c.TieEmbeddings)
			require.True(t, c.QKVBias)
			require.Zero(t, c.SlidingWindow)
			require.Equal(t, 64, c.HeadDim)
			require.Equal(t, []int{151645, 151643}, c.EOS)
			require.Equal(t, 151643, c.BOS)
		}},
		{"phi3", phi3, "", func(t *testing.T, c engine.Config) {
			require.True(t, c.FusedQKV && c.FusedGateUp)
			require.Equal(t, 2047, c.SlidingWindow)
			require.Equal(t, 1e-5, c.RMSEps)
			require.Equal(t, 96, c.RotaryDim)
		}},
		{"mistral head_dim and null window", mistral, "", func(t *testing.T, c engine.Config) {
			require.Zero(t, c.SlidingWindow)
			require.Equal(t, 128, c.HeadDim)
			require.Equal(t, 8, c.KVHeads)
			require.Equal(t, -1, c.BOS)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var gen []byte
			if c.gen != "" {
				gen = []byte(c.gen)
			}
			cfg, err := engine.ParseConfig([]byte(c.cfg), gen)
			require.NoError(t, err)
			c.check(t, cfg)
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, cfg string
		is        error
		msg       string
	}{
		{"arch", `{"architectures":["GPT2LMHeadModel"],"vocab_size":5}`, engine.ErrUnsupported, `"GPT2LMHeadModel"`},
		{"no arch", `{"vocab_size":5}`, engine.ErrBadConfig, "architectures"},
		{"json", `{`, engine.ErrBadConfig, "config.json"},
		{"longrope", `{"architectures":["Phi3ForCausalLM"],"vocab_size":5,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,
			"num_attention_heads":2,"rope_scaling":{"type":"longrope","long_factor":[1],"short_factor":[1]}}`, engine.ErrUnsupported, `"longrope"`},
		{"gqa", `{"architectures":["LlamaForCausalLM"],"vocab_size":5,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,
			"num_attention_heads":4,"num_key_value_heads":3}`, engine.ErrBadConfig, "num_key_value_heads 3"},
		{"missing size", `{"architectures":["LlamaForCausalLM"],"vocab_size":5,"intermediate_size":8,"num_hidden_layers":1,
			"num_attention_heads":4}`, engine.ErrBadConfig, "hidden_size"},
		{"act", `{"architectures":["LlamaForCausalLM"],"vocab_size":5,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,
			"num_attention_heads":2,"hidden_act":"gelu"}`, engine.ErrUnsupported, "gelu"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := engine.ParseConfig([]byte(c.cfg), nil)
			require.ErrorIs(t, err, c.is)
			require.ErrorContains(t, err, c.msg)
		})
	}
}

// Load reads a folder written with safetensors (single file and shards)
// and gives the logits of the same weights built in memory.
func TestLoadFolder(t *testing.T) {
	s := smallSpec(engine.ArchLlama)
	w := randomWeights(s, 9)
	mem := w.tensors(safetensors.BF16)
	toks := tokens(2, 6, s.vocab)
	want := forward(t, newModel(t, s, mem), toks, 6)[0]
	var list []safetensors.Tensor
	for _, tn := range mem {
		list = append(list, tn)
	}
	single, sharded := t.TempDir(), t.TempDir()
	require.NoError(t, safetensors.Write(filepath.Join(single, "model.safetensors"), list, nil))
	require.NoError(t, safetensors.WriteSharded(sharded, list, 20000))
	for _, dir := range []string{single, sharded} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), s.configJSON(), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id":[2,7]}`), 0o644))
		m, err := engine.Load(dir, engine.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, m.Close()) })
		require.Equal(t, []int{2, 7}, m.Config().EOS)
		var total int64
		for _, tn := range list {
			total += int64(len(tn.Data))
		}
		require.Equal(t, total, m.WeightBytes())
		requireLogitsClose(t, want, forward(t, m, toks, 6)[0], 1e-6, dir)
	}

	_, err := engine.Load(t.TempDir(), engine.Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "config.json")
	noWeights := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(noWeights, "config.json"), s.configJSON(), 0o644))
	_, err = engine.Load(noWeights, engine.Options{})
	require.ErrorContains(t, err, "model.safetensors")
}
