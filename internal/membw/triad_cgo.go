//go:build cgo

package membw

/*
#cgo CFLAGS: -O3
#include "triad.h"
*/
import "C"

import "unsafe"

const haveCgo = true

func triad(a, b, c []float64, s float64, lo, hi int) {
	C.rb_triad((*C.double)(unsafe.Pointer(&a[0])), (*C.double)(unsafe.Pointer(&b[0])), (*C.double)(unsafe.Pointer(&c[0])),
		C.double(s), C.size_t(lo), C.size_t(hi))
}
