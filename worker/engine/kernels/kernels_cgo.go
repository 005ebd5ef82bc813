//go:build cgo

package kernels

/*
#cgo CFLAGS: -O3
#include "kernels.h"
*/
import "C"

import "unsafe"

// permuteBF16 is set once: the AVX2 BF16 kernel wants x deinterleaved per
// 16-block, the portable C loop wants it natural.
var permuteBF16 = C.rb_simd() != 0

func matmulRows(w Matrix, x []float32, n int, out []float32, ldo, r0, r1 int) {
	cMatMulRows(permuteBF16, w, x, n, out, ldo, r0, r1)
}

// cMatMulRows calls the C kernel; simd=false forces the portable loop
// (natural-order x), which tests exercise on AVX2 machines too.
func cMatMulRows(simd bool, w Matrix, x []float32, n int, out []float32, ldo, r0, r1 int) {
	s := 0
	if simd {
		s = 1
	}
	C.rb_matmul(C.int(s), C.int(w.DType), unsafe.Pointer(&w.Data[0]), C.int(w.Cols),
		(*C.float)(unsafe.Pointer(&x[0])), C.int(n),
		(*C.float)(unsafe.Pointer(&out[0])), C.int(ldo), C.int(r0), C.int(r1))
}

func streamSum(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(C.rb_stream_sum(unsafe.Pointer(&b[0]), C.size_t(len(b))))
}

// Accelerated reports which kernel implementation runs.
func Accelerated() string {
	if permuteBF16 {
		return "c-avx2"
	}
	return "c"
}
