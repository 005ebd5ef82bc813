//go:build !cgo

package kernels

// Without cgo the pure-Go loops run; BF16 activations stay in natural order.
const permuteBF16 = false

func matmulRows(w Matrix, x []float32, n int, out []float32, ldo, r0, r1 int) {
	goMatMulRows(w, x, n, out, ldo, r0, r1)
}

func streamSum(b []byte) uint64 { return goStreamSum(b) }

// Accelerated reports which kernel implementation runs.
func Accelerated() string { return "go" }
