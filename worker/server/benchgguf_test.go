package server_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/server"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

// TinyLlama-1.1B's shape.
const (
	tlHidden, tlInter, tlLayers, tlHeads, tlKVHeads, tlVocab, tlCtx = 2048, 5632, 22, 32, 4, 32000, 2048
)

// benchFile is one benchmark model: a GGUF of TinyLlama's shape with random
// weights (normal, σ 0.02) in one file type, and the real 32k SentencePiece
// vocabulary so the worker serves it as it would a download.
type benchFile struct {
	Name        string     // BF16, F16, Q8_0, Q4_K_M
	Main        quant.Type // the matrices' type
	More        quant.Type // Q4_K_M: attn_v/ffn_down of some layers and output (llama.cpp's mix)
	moreLayer   func(int) bool
	decodeBytes int64 // weight bytes a decode step reads: every matrix but the embedding, plus one row
}

func benchFiles() []benchFile {
	n := tlLayers
	useMore := func(i int) bool { return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2 } // llama.cpp's use_more_bits
	return []benchFile{
		{Name: "BF16", Main: quant.BF16, More: quant.BF16},
		{Name: "F16", Main: quant.F16, More: quant.F16},
		{Name: "Q8_0", Main: quant.Q8_0, More: quant.Q8_0},
		{Name: "Q4_K_M", Main: quant.Q4_K, More: quant.Q6_K, moreLayer: useMore},
	}
}

// tiler hands out a type's bytes for n values: blocks of a pool of random
// values quantized once, taken at shifting offsets (realistic magnitudes at
// memcpy speed; quantizing 1.1B values with the reference code takes minutes).
type tiler struct {
	pools map[quant.Type][]byte
	off   int
}

func newTiler(t testing.TB) *tiler {
	r := rand.New(rand.NewPCG(42, 42))
	vals := make([]float32, 1<<20)
	for i := range vals {
		vals[i] = float32(r.NormFloat64() * 0.02)
	}
	tl := &tiler{pools: map[quant.Type][]byte{}}
	for _, ty := range []quant.Type{quant.BF16, quant.F16, quant.Q8_0, quant.Q4_K, quant.Q6_K} {
		b, err := quant.Quantize(ty, vals)
		require.NoError(t, err, "%v", ty)
		tl.pools[ty] = b
	}
	return tl
}

func (tl *tiler) bytes(ty quant.Type, n int) []byte {
	pool, bb := tl.pools[ty], ty.TypeSize()
	out := make([]byte, n/ty.BlockSize()*bb)
	blocks := len(pool) / bb
	for i := 0; i < len(out); {
		tl.off = (tl.off + 7919) % blocks
		i += copy(out[i:], pool[tl.off*bb:])
	}
	return out
}

// write writes the model into dir and returns its path.
func (bf *benchFile) write(t testing.TB, tl *tiler, dir string) string {
	w := gguf.NewWriter()
	const arch = "llama"
	for k, v := range map[string]any{
		"general.architecture": arch, arch + ".context_length": uint32(tlCtx), arch + ".embedding_length": uint32(tlHidden),
		arch + ".block_count": uint32(tlLayers), arch + ".feed_forward_length": uint32(tlInter),
		arch + ".attention.head_count": uint32(tlHeads), arch + ".attention.head_count_kv": uint32(tlKVHeads),
		arch + ".attention.layer_norm_rms_epsilon": float32(1e-5), arch + ".rope.dimension_count": uint32(tlHidden / tlHeads),
		"general.file_type": uint32(0),
	} {
		require.NoError(t, w.AddKV(k, v))
	}
	v, err := tokenizer.GGUFVocabFromJSON(fixtureFile(t, "spm-bpe-32k", "tokenizer.json.gz"), fixtureFile(t, "spm-bpe-32k", "tokenizer_config.json"))
	require.NoError(t, err)
	require.NoError(t, server.AddGGUFVocab(w, v))
	ones := make([]byte, 4*tlHidden)
	for i := range tlHidden {
		binary.LittleEndian.PutUint32(ones[4*i:], math.Float32bits(1))
	}
	bf.decodeBytes = 0
	add := func(name string, ty quant.Type, out, in int) {
		data := tl.bytes(ty, out*in)
		require.NoError(t, w.AddTensor(name, ty, []uint64{uint64(in), uint64(out)}, data))
		if name == "token_embd.weight" {
			bf.decodeBytes += int64(len(data) / out)
		} else {
			bf.decodeBytes += int64(len(data))
		}
	}
	kv := tlKVHeads * tlHidden / tlHeads
	add("token_embd.weight", bf.Main, tlVocab, tlHidden)
	add("output.weight", bf.More, tlVocab, tlHidden)
	require.NoError(t, w.AddTensor("output_norm.weight", quant.F32, []uint64{tlHidden}, ones))
	for l := range tlLayers {
		p := fmt.Sprintf("blk.%d.", l)
		more := bf.Main
		if bf.moreLayer != nil && bf.moreLayer(l) {
			more = bf.More
		}
		require.NoError(t, w.AddTensor(p+"attn_norm.weight", quant.F32, []uint64{tlHidden}, ones))
		require.NoError(t, w.AddTensor(p+"ffn_norm.weight", quant.F32, []uint64{tlHidden}, ones))
		add(p+"attn_q.weight", bf.Main, tlHidden, tlHidden)
		add(p+"attn_k.weight", bf.Main, kv, tlHidden)
		add(p+"attn_v.weight", more, kv, tlHidden)
		add(p+"attn_output.weight", bf.Main, tlHidden, tlHidden)
		add(p+"ffn_gate.weight", bf.Main, tlInter, tlHidden)
		add(p+"ffn_up.weight", bf.Main, tlInter, tlHidden)
		add(p+"ffn_down.weight", more, tlHidden, tlInter)
	}
	path := filepath.Join(dir, "tinyllama-"+bf.Name+".gguf")
	require.NoError(t, w.WriteFile(path))
	return path
}
