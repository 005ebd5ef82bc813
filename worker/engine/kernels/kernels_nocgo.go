//go:build !cgo

package kernels

// Without cgo the pure-Go loops run, with activations in natural order.
func kernelMode(int) int { return 0 }

func permutes(int) bool { return false }

func amxRows(DType, int) bool { return false }

func splitActs(int, DType, int) bool { return false }

func splitWords(int) int { return 0 }

func splitActsC([]float32, int, int, []uint16, int) { panic("kernels: no AMX without cgo") }

func matmulSplitRows(Matrix, []uint16, int, []float32, int, int, int) {
	panic("kernels: no AMX without cgo")
}

func matmulRows(_ int, w Matrix, x []float32, n int, out []float32, ldo, r0, r1 int) {
	goMatMulRows(w, x, n, out, ldo, r0, r1)
}

func streamSum(b []byte) uint64 { return goStreamSum(b) }

func modes() []int { return []int{0} }

// Accelerated reports which kernel implementation runs.
func Accelerated() string { return "go" }

func attend(_ int, q []float32, group, hd int, k, v []float32, scale float32, sc, out []float32) {
	goAttend(q, group, hd, k, v, scale, sc, out)
}

func qmatmulRows(_ int, w Matrix, xq []byte, n int, out []float32, ldo, r0, r1 int) {
	goQMatMulRows(w, xq, n, out, ldo, r0, r1)
}

func quantizeActsC(k bool, x []float32, n, cols int, dst []byte) { quantizeActs(k, x, n, cols, dst) }

func quantizeActsMode(_ int, k bool, x []float32, n, cols int, dst []byte) {
	quantizeActs(k, x, n, cols, dst)
}

func qmodes() []int { return []int{0} }

func swiGLU(_ int, gate, up []float32) { goSwiGLU(gate, up) }
