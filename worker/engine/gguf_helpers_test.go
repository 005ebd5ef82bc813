package engine_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
)

// ggufArch is how a spec's architecture is written as GGUF: its
// general.architecture and whether q/k rows are stored in the original
// (unpermuted) order, as llama.cpp's converter does for llama only.
var ggufArchOf = map[string]string{"LlamaForCausalLM": "llama", "MistralForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2", "Phi3ForCausalLM": "phi3"}

// hfToGGUF maps the tensor names of weights (HF, model.layers.N.…) to
// llama.cpp's.
func hfToGGUF(name string) string {
	for hf, g := range map[string]string{"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"} {
		if name == hf {
			return g
		}
	}
	r := strings.NewReplacer("model.layers.", "blk.", "input_layernorm", "attn_norm", "post_attention_layernorm", "ffn_norm",
		"self_attn.q_proj", "attn_q", "self_attn.k_proj", "attn_k", "self_attn.v_proj", "attn_v", "self_attn.qkv_proj", "attn_qkv",
		"self_attn.o_proj", "attn_output", "mlp.gate_up_proj", "ffn_up", "mlp.gate_proj", "ffn_gate", "mlp.up_proj", "ffn_up", "mlp.down_proj", "ffn_down")
	return r.Replace(name)
}

// writeGGUF writes a spec's weights (already in the file's q/k row order)
// as a GGUF model file; matrices in typ, vectors in F32. It returns the
// weights as the file holds them (quantization rounded) and the path.
func writeGGUF(t *testing.T, s spec, w weights, typ quant.Type, meta map[string]any) (weights, string) {
	t.Helper()
	arch := ggufArchOf[s.arch]
	gw := gguf.NewWriter()
	kv := map[string]any{
		"general.architecture": arch, arch + ".context_length": uint32(s.maxPos), arch + ".embedding_length": uint32(s.hidden),
		arch + ".block_count": uint32(s.layers), arch + ".feed_forward_length": uint32(s.inter), arch + ".attention.head_count": uint32(s.heads),
		arch + ".attention.head_count_kv": uint32(s.kvHeads), arch + ".attention.layer_norm_rms_epsilon": float32(1e-5),
		arch + ".rope.dimension_count": uint32(s.hidden / s.heads),
	}
	for k, v := range meta {
		if v == nil {
			delete(kv, k)
		} else {
			kv[k] = v
		}
	}
	for k, v := range kv {
		require.NoError(t, gw.AddKV(k, v))
	}
	held := weights{}
	for name, tn := range w {
		dims := make([]uint64, len(tn.shape))
		for i, d := range tn.shape {
			dims[len(dims)-1-i] = uint64(d)
		}
		ty := typ
		if len(dims) == 1 {
			ty = quant.F32
		}
		var data []byte
		vals := tn.vals
		if ty == quant.F32 {
			data = make([]byte, 4*len(vals))
			for i, v := range vals {
				binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
			}
		} else {
			var err error
			data, err = quant.Quantize(ty, vals)
			require.NoError(t, err, name)
			vals = make([]float32, len(tn.vals))
			require.NoError(t, quant.Dequantize(ty, data, vals))
		}
		require.NoError(t, gw.AddTensor(hfToGGUF(name), ty, dims, data), name)
		held[name] = struct {
			shape []int
			vals  []float32
		}{tn.shape, vals}
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%s.gguf", arch, typ))
	require.NoError(t, gw.WriteFile(path))
	return held, path
}
