// Package kernels holds the numeric hot loops of the CPU engine: matrix
// products of F32/F16/BF16 weights with F32 activations, and of ggml
// block-quantized weights (Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K) with activations
// quantized per block (integer dot products), run across all cores by a
// persistent worker pool. With cgo the loops are C (AVX2, AVX-512/VNNI when
// the CPU has them, chosen at run time); without cgo a pure-Go path keeps
// every platform building.
package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rbee-go/rbee/worker/safetensors"
)

// DType is the element type of a weight matrix.
type DType uint8

// Weight element types; the values are shared with the C kernels. The
// quantized ones store rows as ggml blocks (see quant.go).
const (
	F32  DType = 0
	F16  DType = 1
	BF16 DType = 2
	Q8_0 DType = 3
	Q4_0 DType = 4
	Q4_K DType = 5
	Q5_K DType = 6
	Q6_K DType = 7
	// Q5_0 came last: llama.cpp's Q4_K_M files hold it where a row cannot
	// hold 256-value blocks (Qwen2.5-0.5B's 896 columns).
	Q5_0 DType = 8
)

var dtypeNames = [...]string{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q5_0"}

// Size returns the bytes of one element of a float type (0 for a
// quantized one: see RowBytes).
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case F16, BF16:
		return 2
	}
	return 0
}

// Quantized reports whether rows are stored as ggml blocks.
func (d DType) Quantized() bool { return d >= Q8_0 && d <= Q5_0 }

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// RowBytes returns the bytes of a row of cols elements; ok is false when
// cols is not a whole number of blocks (or d is unknown).
func (d DType) RowBytes(cols int) (n int, ok bool) {
	if !d.Quantized() {
		return cols * d.Size(), d <= BF16
	}
	bs, bb := d.Block()
	if cols%bs != 0 {
		return 0, false
	}
	return cols / bs * bb, true
}

// Matrix is a row-major [Rows][Cols] weight matrix whose little-endian
// elements stay in their stored type (typically aliasing an mmap).
type Matrix struct {
	DType      DType
	Rows, Cols int
	Data       []byte
}

// NewMatrix checks that data holds exactly rows×cols elements of dtype.
func NewMatrix(dtype DType, rows, cols int, data []byte) (Matrix, error) {
	rb, ok := dtype.RowBytes(cols)
	if !ok {
		return Matrix{}, fmt.Errorf("unsupported dtype %v with %d columns", dtype, cols)
	}
	if rows < 0 || cols < 0 || len(data) != rows*rb {
		return Matrix{}, fmt.Errorf("matrix %dx%d %v needs %d bytes, got %d", rows, cols, dtype, rows*rb, len(data))
	}
	return Matrix{DType: dtype, Rows: rows, Cols: cols, Data: data}, nil
}

// RowSlice returns rows [lo, hi) as a matrix sharing the same bytes; fused
// projections (Phi-3 qkv_proj, gate_up_proj) are split this way without a copy.
func (m Matrix) RowSlice(lo, hi int) Matrix {
	rb := m.rowBytes()
	return Matrix{DType: m.DType, Rows: hi - lo, Cols: m.Cols, Data: m.Data[lo*rb : hi*rb]}
}

// Bytes returns the size of the weights.
func (m Matrix) Bytes() int64 { return int64(len(m.Data)) }

func (m Matrix) rowBytes() int {
	rb, _ := m.DType.RowBytes(m.Cols)
	return rb
}

// Row widens (or dequantizes) row r into dst (len Cols).
func (m Matrix) Row(r int, dst []float32) {
	rb := m.rowBytes()
	row := m.Data[r*rb : (r+1)*rb]
	if m.DType.Quantized() {
		dequantizeRow(m.DType, row, dst)
		return
	}
	ToF32(m.DType, row, dst)
}

// ToF32 widens len(dst) elements of src (stored as dtype) into dst.
func ToF32(dtype DType, src []byte, dst []float32) {
	switch dtype {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}
}

// BF16ToF32 widens a bfloat16 bit pattern (exact), as safetensors does.
func BF16ToF32(b uint16) float32 { return safetensors.BF16ToF32(b) }

// F16ToF32 widens an IEEE half-precision bit pattern (exact), as safetensors
// does.
func F16ToF32(h uint16) float32 { return safetensors.F16ToF32(h) }
