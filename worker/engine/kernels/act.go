package kernels

// SwiGLU writes silu(gate) ⊙ up into gate, silu(g) = g / (1 + e^-g).
func SwiGLU(gate, up []float32) {
	if len(gate) == 0 {
		return
	}
	swiGLU(kernelMode(len(gate)), gate, up[:len(gate)])
}
