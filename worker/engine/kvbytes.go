package engine

// KVBytesPerElement is the size of one KV cache value: this engine keeps
// keys and values in float32.
const KVBytesPerElement = 4

// KVBytes is the memory the KV cache of a sequence of positions takes:
// positions × layers × KV heads × head_dim × 2 (keys and values) × bytes
// per element. The session grows its cache to this as the sequence grows.
func (c Config) KVBytes(positions int) int64 {
	return int64(positions) * int64(c.Layers) * int64(c.KVHeads) * int64(c.HeadDim) * 2 * KVBytesPerElement
}
