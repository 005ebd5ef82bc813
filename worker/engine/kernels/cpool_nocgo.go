//go:build !cgo

package kernels

import "unsafe"

// Without cgo there are no C threads: the Go pool runs every product.
type cpool struct{}

func newCPool(int) cpool { return cpool{} }

func (cpool) close() {}

func (cpool) matmuls(int, int, int, []Product, func(Product) unsafe.Pointer) bool { return false }
