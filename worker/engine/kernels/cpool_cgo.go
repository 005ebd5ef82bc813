//go:build cgo

package kernels

/*
#include "kernels.h"
*/
import "C"

import "unsafe"

// cpool is the C thread pool that runs matrix products (cpool.c).
type cpool struct{ p *C.rb_pool }

func newCPool(threads int) cpool { return cpool{C.rb_pool_new(C.int(threads))} }

func (c cpool) close() {
	if c.p != nil {
		C.rb_pool_free(c.p)
	}
}

// matmuls runs ps on the C threads; false if it cannot (more products or
// row chunks than the C side takes), and the caller uses the Go pool.
// input(pr) is product pr's input: float32 x, quantized x or x in BF16 parts.
func (c cpool) matmuls(mode, n, cols int, ps []Product, input func(Product) unsafe.Pointer) bool {
	if c.p == nil || len(ps) > C.RB_MAXPROD {
		return false
	}
	var meta [4 * C.RB_MAXPROD]C.int
	var w, in, out [C.RB_MAXPROD]unsafe.Pointer
	for i, pr := range ps {
		meta[4*i], meta[4*i+1], meta[4*i+2] = C.int(pr.W.DType), C.int(pr.W.Rows), C.int(rowGrain(pr.W, n))
		meta[4*i+3] = C.int(b2i(splitActs(mode, pr.W.DType, n)))
		w[i], in[i], out[i] = unsafe.Pointer(&pr.W.Data[0]), input(pr), unsafe.Pointer(&pr.Out[0])
	}
	return C.rb_pool_matmuls(c.p, C.int(mode), C.int(n), C.int(cols), C.int(len(ps)), &meta[0],
		w[0], in[0], (*C.float)(out[0]), w[1], in[1], (*C.float)(out[1]), w[2], in[2], (*C.float)(out[2])) == 1
}
