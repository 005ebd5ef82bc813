package tinymodel

import (
	"fmt"
	"strings"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// ggufName maps a Hugging Face tensor name to llama.cpp's.
func ggufName(hf string) (string, error) {
	switch hf {
	case "model.embed_tokens.weight":
		return "token_embd.weight", nil
	case "model.norm.weight":
		return "output_norm.weight", nil
	case "lm_head.weight":
		return "output.weight", nil
	}
	var layer int
	var rest string
	if _, err := fmt.Sscanf(hf, "model.layers.%d.%s", &layer, &rest); err != nil {
		return "", fmt.Errorf("tiny model: no GGUF name for %s", hf)
	}
	parts := map[string]string{
		"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
		"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
		"self_attn.o_proj": "attn_output", "self_attn.qkv_proj": "attn_qkv",
		"mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
		"mlp.gate_up_proj": "ffn_up", // Phi-3: gate rows then up rows, llama.cpp's fused SwiGLU order
	}
	dot := strings.LastIndex(rest, ".") // "self_attn.q_proj" . "weight"
	g, ok := "", dot > 0
	if ok {
		g, ok = parts[rest[:dot]]
	}
	if !ok {
		return "", fmt.Errorf("tiny model: no GGUF name for %s", hf)
	}
	return fmt.Sprintf("blk.%d.%s.%s", layer, g, rest[dot+1:]), nil
}

func addTensor(w *gguf.Writer, s Spec, st safetensors.Tensor, t quant.Type) error {
	name, err := ggufName(st.Name)
	if err != nil {
		return err
	}
	x, err := safetensors.ToF32(st)
	if err != nil {
		return fmt.Errorf("tiny model: %w", err)
	}
	if GGUFArch(s.Arch) == "llama" {
		switch {
		case strings.HasSuffix(name, ".attn_q.weight"):
			x = PermuteQK(x, s.Heads, s.Hidden)
		case strings.HasSuffix(name, ".attn_k.weight"):
			x = PermuteQK(x, s.KVHeads, s.Hidden)
		}
	}
	// GGUF dims are ne0 first: a row-major [out][in] matrix is [in, out]
	dims := make([]uint64, len(st.Shape))
	for i, d := range st.Shape {
		dims[len(dims)-1-i] = uint64(d)
	}
	tt := tensorType(dims, t)
	data, err := quant.Quantize(tt, x)
	if err != nil {
		return fmt.Errorf("tiny model: %s: %w", name, err)
	}
	if err := w.AddTensor(name, tt, dims, data); err != nil {
		return fmt.Errorf("tiny model: %w", err)
	}
	return nil
}

// tensorType is the type a tensor is stored in when the file's type is t,
// the way llama.cpp's quantize chooses: 1-D tensors (norms, biases) stay
// F32; a row (ne0) that is not a whole number of t's blocks falls back to
// the type llama.cpp's llama_tensor_get_type substitutes (Q4_K -> Q5_0,
// Q5_K -> Q5_1, Q6_K -> Q8_0) and to F16 when even that does not fit. At
// the tiny sizes (rows of 32..128) no row holds a 256-element K-quant
// block, so a "Q4_K" tiny file stores its matrices as Q5_0; BuildGGUF with
// a spec of width 256 or more gets real Q4_K tensors.
func tensorType(dims []uint64, t quant.Type) quant.Type {
	if len(dims) < 2 {
		return quant.F32
	}
	ne0 := dims[0]
	fits := func(t quant.Type) bool { return ne0%uint64(t.BlockSize()) == 0 }
	if fits(t) {
		return t
	}
	if fb, ok := map[quant.Type]quant.Type{quant.Q4_K: quant.Q5_0, quant.Q5_K: quant.Q5_1, quant.Q6_K: quant.Q8_0}[t]; ok && fits(fb) {
		return fb
	}
	return quant.F16
}

// PermuteQK reorders the rows of a q or k projection ([heads*headDim][in],
// row-major) from Hugging Face's rotate-half RoPE layout to the adjacent-pair
// layout llama.cpp applies for the llama architecture, as
// convert_hf_to_gguf.py's permute does: within each head, new row 2i+j is
// old row j*headDim/2+i. Adjacent-pair RoPE on the permuted rows then equals
// rotate-half RoPE on the original ones.
func PermuteQK(w []float32, heads, in int) []float32 {
	rows := len(w) / in
	hd := rows / heads
	out := make([]float32, len(w))
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			for j := 0; j < 2; j++ {
				src := (h*hd + j*hd/2 + i) * in
				dst := (h*hd + 2*i + j) * in
				copy(out[dst:dst+in], w[src:src+in])
			}
		}
	}
	return out
}
