package workers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// kvBytesPerElement: the Go worker keeps its KV cache in float32.
const kvBytesPerElement = 4

// kvCacheBytes is the KV cache of tokens positions of the model at path
// (its config.json): tokens × layers × KV heads × head_dim × 2 × bytes per
// element. 0 tokens, or a model without a config.json (a lone GGUF), is 0.
func kvCacheBytes(path string, tokens int) (uint64, error) {
	if tokens == 0 {
		return 0, nil
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		return 0, nil // a single-file model; a missing one is refused elsewhere
	}
	raw, err := os.ReadFile(filepath.Join(path, "config.json"))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var c struct {
		Layers   int `json:"num_hidden_layers"`
		Heads    int `json:"num_attention_heads"`
		KVHeads  int `json:"num_key_value_heads"`
		Hidden   int `json:"hidden_size"`
		HeadDim  int `json:"head_dim"`
		NLayer   int `json:"n_layer"` // older config names
		NHead    int `json:"n_head"`
		NEmbd    int `json:"n_embd"`
		NKVHeads int `json:"num_kv_heads"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return 0, fmt.Errorf("config.json: %w", err)
	}
	layers, heads, kvHeads, hidden := first(c.Layers, c.NLayer), first(c.Heads, c.NHead), first(c.KVHeads, c.NKVHeads), first(c.Hidden, c.NEmbd)
	if kvHeads == 0 {
		kvHeads = heads // no grouped-query attention
	}
	headDim := c.HeadDim
	if headDim == 0 && heads > 0 {
		headDim = hidden / heads
	}
	if layers <= 0 || kvHeads <= 0 || headDim <= 0 {
		return 0, fmt.Errorf("config.json does not say the layers, KV heads and head size needed to size the KV cache")
	}
	return uint64(tokens) * uint64(layers) * uint64(kvHeads) * uint64(headDim) * 2 * kvBytesPerElement, nil
}

func first(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}
