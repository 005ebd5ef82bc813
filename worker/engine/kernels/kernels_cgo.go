//go:build cgo

package kernels

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
#include "kernels.h"
*/
import "C"

import "unsafe"

// Kernel modes shared with kernels.c.
const (
	modePortable = 0
	modeAVX2     = 1
	modeAVX512   = 2
	modeAMX      = 3 // AVX-512 and, for prefill, AMX: INT8 for Q8_0, Q4_K and Q6_K, BF16 for BF16 and F16 (famx.c)
)

// simdLevel is what the CPU offers (0, 1 AVX2, 2 AVX-512), fixed for the process.
var simdLevel = int(C.rb_simd())

// kernelMode picks the kernel for an n-token product: the widest the CPU
// has. AVX-512 measured faster for decode too (BenchmarkMatMulMode), so n
// does not matter today; the parameter keeps the choice in one place.
func kernelMode(_ int) int {
	switch {
	case qsimdLevel >= modeAMX: // the float kernels run it as AVX-512
		return modeAMX
	case simdLevel >= modeAVX512:
		return modeAVX512
	case simdLevel >= modeAVX2:
		return modeAVX2
	}
	return modePortable
}

// permutes reports whether mode wants BF16 activations deinterleaved.
func permutes(mode int) bool { return mode == modeAVX2 }

func matmulRows(mode int, w Matrix, x []float32, n int, out []float32, ldo, r0, r1 int) {
	C.rb_matmul(C.int(mode), C.int(w.DType), unsafe.Pointer(&w.Data[0]), C.int(w.Cols),
		(*C.float)(unsafe.Pointer(&x[0])), C.int(n),
		(*C.float)(unsafe.Pointer(&out[0])), C.int(ldo), C.int(r0), C.int(r1))
}

func streamSum(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(C.rb_stream_sum(unsafe.Pointer(&b[0]), C.size_t(len(b))))
}

// qsimdLevel is what the CPU offers the quantized kernels (2: AVX-512 VNNI,
// 3: and AMX-INT8, which this call also asks Linux for).
var qsimdLevel = int(C.rb_qsimd())

// amxRows reports whether n-token products of d run on AMX, in tiles of
// 16 rows.
func amxRows(d DType, n int) bool {
	return qsimdLevel >= modeAMX && (d == Q8_0 || d == Q4_K || d == Q6_K) && n >= 16 || splitActs(modeAMX, d, n)
}

// famxOK: the CPU runs BF16 and F16 prefill on AMX-BF16 (rb_famx).
var famxOK = C.rb_famx() != 0

// splitActs reports whether an n-token product of d in mode runs on
// AMX-BF16, from activations cut into BF16 parts (splitActsC).
func splitActs(mode int, d DType, n int) bool {
	return mode >= modeAMX && famxOK && (d == F16 || d == BF16) && n >= 16
}

// splitWords is the length of splitActsC's output per token of width cols.
func splitWords(cols int) int { return int(C.rb_bf16_split_words(C.int(cols))) }

// splitActsC writes n tokens of x as BF16 parts into dst, then zero
// tokens up to np ≥ n (a batch rounds up to 16; workers share it by token
// ranges, the last one padding).
func splitActsC(x []float32, n, cols int, dst []uint16, np int) {
	if len(dst) < splitWords(cols)*np {
		panic("kernels: splitActsC: dst too short")
	}
	C.rb_bf16_split((*C.float)(unsafe.Pointer(&x[0])), C.int(n), C.int(cols), C.int(np), (*C.uint16_t)(unsafe.Pointer(&dst[0])))
}

func matmulSplitRows(w Matrix, xs []uint16, n int, out []float32, ldo, r0, r1 int) {
	if C.rb_matmul_split(C.int(w.DType), unsafe.Pointer(&w.Data[0]), C.int(w.Cols), (*C.uint16_t)(unsafe.Pointer(&xs[0])),
		C.int(n), (*C.float)(unsafe.Pointer(&out[0])), C.int(ldo), C.int(r0), C.int(r1)) == 0 {
		panic("kernels: AMX-BF16 product without AMX-BF16")
	}
}

func qmatmulRows(mode int, w Matrix, xq []byte, n int, out []float32, ldo, r0, r1 int) {
	C.rb_qmatmul(C.int(mode), C.int(w.DType), unsafe.Pointer(&w.Data[0]), C.int(w.Cols),
		unsafe.Pointer(&xq[0]), C.int(n), (*C.float)(unsafe.Pointer(&out[0])), C.int(ldo), C.int(r0), C.int(r1))
}

func quantizeActsC(k bool, x []float32, n, cols int, dst []byte) {
	quantizeActsMode(kernelMode(n), k, x, n, cols, dst)
}

func quantizeActsMode(mode int, k bool, x []float32, n, cols int, dst []byte) {
	C.rb_quantize_acts(C.int(mode), C.int(b2i(k)), (*C.float)(unsafe.Pointer(&x[0])), C.int(n*cols), unsafe.Pointer(&dst[0]))
}

// qmodes lists the quantized kernel modes this CPU can run (for tests).
func qmodes() []int {
	m := []int{modePortable}
	for l := modeAVX2; l <= qsimdLevel; l++ {
		m = append(m, l)
	}
	return m
}

// modes lists the kernel modes this CPU can run (for tests); mode 3 is
// AMX-BF16's for prefill and AVX-512 otherwise.
func modes() []int {
	m := []int{modePortable}
	for l := modeAVX2; l <= simdLevel; l++ {
		m = append(m, l)
	}
	if famxOK {
		m = append(m, modeAMX)
	}
	return m
}

// Accelerated reports which kernels run: decode, then prefill (+amx: the
// quantized prefill on AMX-INT8, +bf16: BF16 and F16 prefill on AMX-BF16).
func Accelerated() string {
	s := [...]string{"c", "c-avx2", "c-avx2/avx512"}[simdLevel]
	if qsimdLevel >= modeAMX {
		s += "+amx"
	}
	if famxOK {
		s += "+bf16"
	}
	return s
}

func attend(mode int, q []float32, group, hd int, k, v []float32, scale float32, sc, out []float32) {
	C.rb_attend(C.int(mode), (*C.float)(unsafe.Pointer(&q[0])), C.int(group), C.int(hd),
		(*C.float)(unsafe.Pointer(&k[0])), (*C.float)(unsafe.Pointer(&v[0])), C.int(len(k)/hd), C.float(scale),
		(*C.float)(unsafe.Pointer(&sc[0])), (*C.float)(unsafe.Pointer(&out[0])))
}

func swiGLU(mode int, gate, up []float32) {
	C.rb_swiglu(C.int(mode), (*C.float)(unsafe.Pointer(&gate[0])), (*C.float)(unsafe.Pointer(&up[0])), C.size_t(len(gate)))
}
