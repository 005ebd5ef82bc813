package server_test

import (
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rbee "github.com/rbee-go/rbee"
	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/server"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

func fixtureFile(t testing.TB, family, name string) []byte {
	t.Helper()
	b, err := rbee.Tokenizers.ReadFile(path.Join("testdata/tokenizers", family, name))
	require.NoError(t, err)
	if path.Ext(name) != ".gz" {
		return b
	}
	f, err := rbee.Tokenizers.Open(path.Join("testdata/tokenizers", family, name))
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// writeTokenizerGGUF writes a one-layer llama or qwen2 model (zero
// weights, unit norms) whose tokenizer metadata is v.
func writeTokenizerGGUF(t *testing.T, v tokenizer.GGUFVocab) string {
	t.Helper()
	arch := map[string]string{tokenizer.GGUFModelLlama: "llama", tokenizer.GGUFModelGPT2: "qwen2"}[v.Model]
	const hidden, inter = 32, 32
	w := gguf.NewWriter()
	for k, val := range map[string]any{"general.architecture": arch, arch + ".context_length": uint32(64), arch + ".embedding_length": uint32(hidden),
		arch + ".block_count": uint32(1), arch + ".feed_forward_length": uint32(inter), arch + ".attention.head_count": uint32(4),
		arch + ".attention.layer_norm_rms_epsilon": float32(1e-5)} {
		require.NoError(t, w.AddKV(k, val))
	}
	require.NoError(t, server.AddGGUFVocab(w, v))
	f32 := func(n int) []byte { return make([]byte, 4*n) }
	ones := func(n int) []byte {
		b := f32(n)
		for i := range n {
			binary.LittleEndian.PutUint32(b[4*i:], 0x3f800000)
		}
		return b
	}
	add := func(name string, data []byte, dims ...uint64) {
		require.NoError(t, w.AddTensor(name, quant.F32, dims, data))
	}
	add("token_embd.weight", f32(hidden*len(v.Tokens)), hidden, uint64(len(v.Tokens)))
	add("output_norm.weight", ones(hidden), hidden)
	add("blk.0.attn_norm.weight", ones(hidden), hidden)
	add("blk.0.ffn_norm.weight", ones(hidden), hidden)
	for _, m := range []string{"attn_q", "attn_k", "attn_v", "attn_output"} {
		add("blk.0."+m+".weight", f32(hidden*hidden), hidden, hidden)
	}
	if arch == "qwen2" {
		for _, m := range []string{"attn_q", "attn_k", "attn_v"} {
			add("blk.0."+m+".bias", f32(hidden), hidden)
		}
	}
	add("blk.0.ffn_gate.weight", f32(hidden*inter), hidden, inter)
	add("blk.0.ffn_up.weight", f32(hidden*inter), hidden, inter)
	add("blk.0.ffn_down.weight", f32(hidden*inter), inter, hidden)
	p := filepath.Join(t.TempDir(), arch+"-tokenizer.gguf")
	require.NoError(t, w.WriteFile(p))
	return p
}

// A GGUF file whose tokenizer metadata is made from each fixture tokenizer
// encodes the fixtures' reference texts to the tokenizer.json ids, through
// the worker's loader (the tokenizer.ggml.* keys as llama.cpp names them);
// the unused tokens a converter pads the vocabulary with are never sampled.
func TestGGUFTokenizerFromFixtures(t *testing.T) {
	for _, fam := range []string{"spm-bpe-32k", "bytelevel-bpe-152k"} {
		t.Run(fam, func(t *testing.T) {
			v, err := tokenizer.GGUFVocabFromJSON(fixtureFile(t, fam, "tokenizer.json.gz"), fixtureFile(t, fam, "tokenizer_config.json"))
			require.NoError(t, err)
			// Padded with unused tokens as converters do (Phi-3: 53, 32011 → 32064).
			tokens := len(v.Tokens)
			for id := tokens; id < tokens+53; id++ {
				v.Tokens, v.TokenType = append(v.Tokens, fmt.Sprintf("[PAD%d]", id)), append(v.TokenType, tokenizer.TokenUnused)
				if v.Scores != nil {
					v.Scores = append(v.Scores, -1000)
				}
			}
			require.Greater(t, len(v.Tokens), tokens)
			b, err := server.Load(writeTokenizerGGUF(t, v), server.LoadOptions{Threads: 1})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, b.Close()) })
			logits, err := b.Model.NewSession().ForwardContext(context.Background(), []int{0})
			require.NoError(t, err)
			assert.Len(t, logits, tokens, "the padding is never sampled")
			var encs []struct {
				Text           string `json:"text"`
				IDs            []int  `json:"ids"`
				IDsWithSpecial []int  `json:"ids_with_special"`
			}
			require.NoError(t, json.Unmarshal(fixtureFile(t, fam, "encodings.json"), &encs))
			require.NotEmpty(t, encs)
			for _, e := range encs {
				assert.Equal(t, e.IDs, b.Tokenizer.Encode(e.Text, false), "%q", e.Text)
				assert.Equal(t, e.IDsWithSpecial, b.Tokenizer.Encode(e.Text, true), "%q with special tokens", e.Text)
			}
			assert.Contains(t, b.EOS, v.EOS)
		})
	}
}
