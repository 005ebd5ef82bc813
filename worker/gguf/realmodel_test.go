package gguf_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
)

// The real file llama.cpp's CI uses (testdata/realmodel/stories260K/README.md).
const stories = "../../testdata/realmodel/stories260K/stories260K.gguf"

func TestStories260K(t *testing.T) {
	f, err := gguf.Open(stories)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })

	assert.Equal(t, uint32(3), f.Version)
	assert.Equal(t, uint64(32), f.Alignment)
	arch, err := f.Architecture()
	require.NoError(t, err)
	assert.Equal(t, "llama", arch)
	for key, want := range map[string]uint64{
		"llama.context_length": 2048, "llama.embedding_length": 64, "llama.block_count": 5,
		"llama.feed_forward_length": 172, "llama.attention.head_count": 8, "llama.attention.head_count_kv": 4,
		"tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2, "tokenizer.ggml.unknown_token_id": 0,
	} {
		got, err := f.Uint(key)
		require.NoError(t, err, key)
		assert.Equal(t, want, got, key)
	}
	eps, err := f.Float("llama.attention.layer_norm_rms_epsilon")
	require.NoError(t, err)
	assert.InDelta(t, 1e-5, eps, 1e-12)
	_, err = f.Float("llama.rope.freq_base")
	assert.ErrorIs(t, err, gguf.ErrMissingKey, "no freq_base key: the default 10000 applies")

	model, err := f.String("tokenizer.ggml.model")
	require.NoError(t, err)
	assert.Equal(t, "llama", model)
	tokens, err := f.Strings("tokenizer.ggml.tokens")
	require.NoError(t, err)
	require.Len(t, tokens, 512)
	assert.Equal(t, []string{"<unk>", "<s>", "</s>", "<0x00>"}, tokens[:4])
	scores, err := f.Float32s("tokenizer.ggml.scores")
	require.NoError(t, err)
	assert.Len(t, scores, 512)
	types, err := f.Int32s("tokenizer.ggml.token_type")
	require.NoError(t, err)
	require.Len(t, types, 512)
	assert.Equal(t, []int32{2, 3, 3, 6}, types[:4], "unknown, control, control, byte")

	require.Len(t, f.Tensors, 48)
	for _, tn := range f.Tensors {
		assert.Equal(t, quant.F32, tn.Type, tn.Name)
	}
	k, ok := f.Tensor("blk.0.attn_k.weight")
	require.True(t, ok)
	assert.Equal(t, []uint64{64, 32}, k.Dims, "ne0 first: 64 inputs, 32 outputs")
	emb, ok := f.Tensor("token_embd.weight")
	require.True(t, ok)
	assert.Equal(t, []uint64{64, 512}, emb.Dims)
	out, ok := f.Tensor("output.weight")
	require.True(t, ok)
	assert.Equal(t, emb.Data, out.Data, "output.weight is a copy of token_embd.weight")
	x, err := emb.Dequantize()
	require.NoError(t, err)
	assert.Len(t, x, 64*512)
}

// Rewriting the real file with the Writer reproduces it byte for byte: the
// writer's layout (order, padding, offsets) is the one llama.cpp's tools write.
func TestWriterReproducesStories260K(t *testing.T) {
	f, err := gguf.Open(stories)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	w := gguf.NewWriter()
	for _, kv := range f.KVs {
		require.NoError(t, w.AddKV(kv.Key, kv.Value))
	}
	for _, tn := range f.Tensors {
		require.NoError(t, w.AddTensor(tn.Name, tn.Type, tn.Dims, tn.Data))
	}
	orig, err := os.ReadFile(stories)
	require.NoError(t, err)
	require.Equal(t, orig, encode(t, w))
}
