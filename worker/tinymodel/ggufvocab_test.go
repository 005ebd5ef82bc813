package tinymodel_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/tinymodel"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

func buildFile(t *testing.T, s tinymodel.Spec, ty quant.Type) (*gguf.File, []byte) {
	t.Helper()
	w, err := tinymodel.BuildGGUF(s, tinymodel.DefaultSeed, ty, "test")
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = w.WriteTo(&buf)
	require.NoError(t, err)
	f, err := gguf.Parse(buf.Bytes())
	require.NoError(t, err)
	return f, buf.Bytes()
}

func TestGGUFVocabSentencePiece(t *testing.T) {
	s, err := tinymodel.SpecFor(tinymodel.Llama)
	require.NoError(t, err)
	f, _ := buildFile(t, s, quant.F32)
	model, _ := f.String("tokenizer.ggml.model")
	pre, _ := f.String("tokenizer.ggml.pre")
	assert.Equal(t, "llama", model)
	assert.Equal(t, "default", pre)
	tokens, err := f.Strings("tokenizer.ggml.tokens")
	require.NoError(t, err)
	require.Len(t, tokens, 32000)
	types, err := f.Int32s("tokenizer.ggml.token_type")
	require.NoError(t, err)
	scores, err := f.Float32s("tokenizer.ggml.scores")
	require.NoError(t, err)
	assert.Equal(t, []string{"<unk>", "<s>", "</s>", "<0x00>"}, tokens[:4])
	assert.Equal(t, []int32{tokenizer.TokenUnknown, tokenizer.TokenControl, tokenizer.TokenControl, tokenizer.TokenByte}, types[:4])
	assert.Equal(t, tokenizer.TokenByte, types[258], tokens[258])
	assert.Equal(t, tokenizer.TokenNormal, types[261], tokens[261])
	// the first merges of tokenizer.json ("▁ t", "i n") rank first
	assert.Equal(t, "▁t", tokens[261])
	assert.Equal(t, float32(0), scores[261])
	assert.Equal(t, "in", tokens[262])
	assert.Equal(t, float32(-1), scores[262])
	for id, s := range scores {
		if types[id] == tokenizer.TokenNormal && len([]rune(tokens[id])) > 1 {
			require.Greater(t, s, float32(-58980), "every multi-char token comes from one of the 58980 merges: %q", tokens[id])
		}
	}
	_, err = f.Strings("tokenizer.ggml.merges")
	assert.ErrorIs(t, err, gguf.ErrMissingKey, "a SentencePiece vocab has scores, not merges")
	for key, want := range map[string]uint64{"bos_token_id": 1, "eos_token_id": 2, "unknown_token_id": 0} {
		got, err := f.Uint("tokenizer.ggml." + key)
		require.NoError(t, err, key)
		assert.Equal(t, want, got, key)
	}
	_, err = f.Uint("tokenizer.ggml.padding_token_id")
	assert.ErrorIs(t, err, gguf.ErrMissingKey)
	addBOS, err := f.Bool("tokenizer.ggml.add_bos_token")
	require.NoError(t, err)
	assert.True(t, addBOS)
	addEOS, err := f.Bool("tokenizer.ggml.add_eos_token")
	require.NoError(t, err)
	assert.False(t, addEOS)
}

func TestGGUFVocabByteLevel(t *testing.T) {
	s, err := tinymodel.SpecFor(tinymodel.Qwen2)
	require.NoError(t, err)
	s.Layers = 1
	f, _ := buildFile(t, s, quant.F32)
	model, _ := f.String("tokenizer.ggml.model")
	pre, _ := f.String("tokenizer.ggml.pre")
	assert.Equal(t, "gpt2", model)
	assert.Equal(t, "qwen2", pre)
	tokens, err := f.Strings("tokenizer.ggml.tokens")
	require.NoError(t, err)
	require.Len(t, tokens, 151669)
	types, err := f.Int32s("tokenizer.ggml.token_type")
	require.NoError(t, err)
	merges, err := f.Strings("tokenizer.ggml.merges")
	require.NoError(t, err)
	assert.Len(t, merges, 151387)
	assert.Equal(t, []string{"Ġ Ġ", "ĠĠ ĠĠ", "i n"}, merges[:3], "pairs joined by a space")
	for id, want := range map[int]struct {
		text string
		typ  int32
	}{
		0:      {"!", tokenizer.TokenNormal},
		151643: {"<|endoftext|>", tokenizer.TokenControl},
		151645: {"<|im_end|>", tokenizer.TokenControl},
		151657: {"<tool_call>", tokenizer.TokenUserDefined}, // added, not special
		151659: {"<|fim_prefix|>", tokenizer.TokenControl},  // not special but spelled like a control token
		151668: {"</think>", tokenizer.TokenUserDefined},
	} {
		assert.Equal(t, want.text, tokens[id], id)
		assert.Equal(t, want.typ, types[id], tokens[id])
	}
	_, err = f.Float32s("tokenizer.ggml.scores")
	assert.ErrorIs(t, err, gguf.ErrMissingKey)
	for key, want := range map[string]uint64{"bos_token_id": 151643, "eos_token_id": 151645, "padding_token_id": 151643} {
		got, err := f.Uint("tokenizer.ggml." + key)
		require.NoError(t, err, key)
		assert.Equal(t, want, got, key)
	}
	_, err = f.Uint("tokenizer.ggml.unknown_token_id")
	assert.ErrorIs(t, err, gguf.ErrMissingKey)
	addBOS, err := f.Bool("tokenizer.ggml.add_bos_token")
	require.NoError(t, err)
	assert.False(t, addBOS)
	tmpl, err := f.String("tokenizer.chat_template")
	require.NoError(t, err)
	assert.Contains(t, tmpl, "<|im_start|>")
}

func TestAddVocabPadsAndRefuses(t *testing.T) {
	tok := []byte(`{"model":{"vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]},"added_tokens":[{"id":4,"content":"<x>","special":true}]}`)
	w := gguf.NewWriter()
	require.NoError(t, tinymodel.AddVocab(w, tok, []byte(`{}`), tinymodel.VocabOptions{Model: "gpt2", Pre: "qwen2", VocabSize: 6, BOS: -1, EOS: 4, Pad: -1}))
	var buf bytes.Buffer
	_, err := w.WriteTo(&buf)
	require.NoError(t, err)
	f, err := gguf.Parse(buf.Bytes())
	require.NoError(t, err)
	tokens, _ := f.Strings("tokenizer.ggml.tokens")
	types, _ := f.Int32s("tokenizer.ggml.token_type")
	merges, _ := f.Strings("tokenizer.ggml.merges")
	assert.Equal(t, []string{"a", "b", "ab", "[PAD3]", "<x>", "[PAD5]"}, tokens)
	assert.Equal(t, []int32{1, 1, 1, 5, 3, 5}, types)
	assert.Equal(t, []string{"a b"}, merges)
	eos, _ := f.Uint("tokenizer.ggml.eos_token_id")
	assert.Equal(t, uint64(4), eos, "config.json's id where tokenizer_config names none")
	_, err = f.Uint("tokenizer.ggml.bos_token_id")
	assert.ErrorIs(t, err, gguf.ErrMissingKey)

	err = tinymodel.AddVocab(gguf.NewWriter(), tok, []byte(`{}`), tinymodel.VocabOptions{Model: "gpt2", VocabSize: 3, BOS: -1, EOS: -1, Pad: -1})
	assert.ErrorContains(t, err, `added token "<x>" has id 4 outside the vocabulary of 3`)
	assert.Error(t, tinymodel.AddVocab(gguf.NewWriter(), []byte(`{`), []byte(`{}`), tinymodel.VocabOptions{}))
}

// RoPE as llama.cpp applies it for "llama" (adjacent pairs) on the permuted
// q rows equals rotate-half RoPE (Hugging Face, NEOX) on the original rows,
// and applying the wrong one visibly changes the result.
func TestPermuteQKTurnsRotateHalfIntoAdjacentPairs(t *testing.T) {
	const heads, hd, in, pos = 3, 8, 5, 7
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, heads*hd*in)
	x := make([]float32, in)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	q := matVec(w, x, in)
	qp := matVec(tinymodel.PermuteQK(w, heads, in), x, in)
	half := ropeRotateHalf(q, heads, hd, pos)
	adj := ropeAdjacent(qp, heads, hd, pos)
	// adj is half in the permuted order
	back := make([]float64, len(adj))
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			back[h*hd+i], back[h*hd+hd/2+i] = adj[h*hd+2*i], adj[h*hd+2*i+1]
		}
	}
	for i := range half {
		require.InDelta(t, half[i], back[i], 1e-9, i)
	}
	wrong := ropeAdjacent(q, heads, hd, pos) // no permutation: adjacent pairs on HF rows
	var diff float64
	for i := range half {
		diff = max(diff, math.Abs(wrong[i]-half[i]))
	}
	assert.Greater(t, diff, 0.1, "the wrong RoPE layout must change the result")
}

func matVec(w, x []float32, in int) []float64 {
	out := make([]float64, len(w)/in)
	for r := range out {
		for c := 0; c < in; c++ {
			out[r] += float64(w[r*in+c]) * float64(x[c])
		}
	}
	return out
}

func angle(i, hd, pos int) (float64, float64) {
	th := float64(pos) * math.Pow(10000, -2*float64(i)/float64(hd))
	return math.Cos(th), math.Sin(th)
}

func ropeRotateHalf(q []float64, heads, hd, pos int) []float64 {
	out := append([]float64(nil), q...)
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			c, s := angle(i, hd, pos)
			a, b := q[h*hd+i], q[h*hd+hd/2+i]
			out[h*hd+i], out[h*hd+hd/2+i] = a*c-b*s, a*s+b*c
		}
	}
	return out
}

func ropeAdjacent(q []float64, heads, hd, pos int) []float64 {
	out := append([]float64(nil), q...)
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			c, s := angle(i, hd, pos)
			a, b := q[h*hd+2*i], q[h*hd+2*i+1]
			out[h*hd+2*i], out[h*hd+2*i+1] = a*c-b*s, a*s+b*c
		}
	}
	return out
}

// Rows of 256 (here ffn_down, whose ne0 is the intermediate size) get real
// Q4_K blocks; rows of 64 fall back to Q5_0 as llama.cpp's quantize does.
func TestGGUFWideRowsHoldQ4_K(t *testing.T) {
	s, err := tinymodel.SpecFor(tinymodel.Mistral)
	require.NoError(t, err)
	s.Intermediate, s.Layers = 256, 1
	f, _ := buildFile(t, s, quant.Q4_K)
	for name, ty := range map[string]quant.Type{
		"blk.0.ffn_down.weight": quant.Q4_K, "blk.0.ffn_up.weight": quant.Q5_0, "token_embd.weight": quant.Q5_0,
		"blk.0.attn_norm.weight": quant.F32,
	} {
		tn, ok := f.Tensor(name)
		require.True(t, ok, name)
		assert.Equal(t, ty, tn.Type, name)
	}
	hf := hfWeights(t, s)
	tn, _ := f.Tensor("blk.0.ffn_down.weight")
	got, err := tn.Dequantize()
	require.NoError(t, err)
	var se, sx float64
	for i, v := range hf["model.layers.0.mlp.down_proj.weight"] {
		se += float64(got[i]-v) * float64(got[i]-v)
		sx += float64(v) * float64(v)
	}
	assert.Less(t, math.Sqrt(se/sx), 0.105, "Q4_K relative RMS error (worker/quant's bound)")
}

func TestGGUFDeterministic(t *testing.T) {
	s, err := tinymodel.SpecFor(tinymodel.Llama)
	require.NoError(t, err)
	_, a := buildFile(t, s, quant.Q8_0)
	_, b := buildFile(t, s, quant.Q8_0)
	assert.True(t, bytes.Equal(a, b), "same seed, same bytes")
}
