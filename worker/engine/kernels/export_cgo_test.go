//go:build cgo

package kernels

// ScalarCMatMulRows exposes the portable C loop (x in natural order).
func ScalarCMatMulRows(w Matrix, x []float32, n int, out []float32, ldo, r0, r1 int) {
	cMatMulRows(false, w, x, n, out, ldo, r0, r1)
}
