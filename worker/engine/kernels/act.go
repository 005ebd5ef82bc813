package kernels

// SwiGLU writes silu(gate) ⊙ up into gate, silu(g) = g / (1 + e^-g), for
// len(up) ≥ len(gate); silu is within a few ulp of float64 math over the
// float range (see kernels.c), with silu(-inf) = 0.
func SwiGLU(gate, up []float32) {
	if len(gate) == 0 {
		return
	}
	swiGLU(kernelMode(len(gate)), gate, up[:len(gate)])
}
