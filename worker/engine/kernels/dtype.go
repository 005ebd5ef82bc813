// Package kernels holds the numeric hot loops of the CPU engine: matrix
// products of F32/F16/BF16 weights with F32 activations, run across all cores
// by a persistent worker pool. With cgo the loops are C (AVX2/FMA when the CPU
// has it, chosen at run time); without cgo a pure-Go path keeps every
// platform building.
package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rbee-go/rbee/worker/safetensors"
)

// DType is the element type of a weight matrix.
type DType uint8

// Weight element types; the values are shared with the C kernels.
const (
	F32  DType = 0
	F16  DType = 1
	BF16 DType = 2
)

// Size returns the bytes of one element.
func (d DType) Size() int {
	if d == F32 {
		return 4
	}
	return 2
}

func (d DType) String() string {
	switch d {
	case F32:
		return "F32"
	case F16:
		return "F16"
	case BF16:
		return "BF16"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
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
	if dtype > BF16 {
		return Matrix{}, fmt.Errorf("unsupported dtype %v", dtype)
	}
	if rows < 0 || cols < 0 || len(data) != rows*cols*dtype.Size() {
		return Matrix{}, fmt.Errorf("matrix %dx%d %v needs %d bytes, got %d", rows, cols, dtype, rows*cols*dtype.Size(), len(data))
	}
	return Matrix{DType: dtype, Rows: rows, Cols: cols, Data: data}, nil
}

// RowSlice returns rows [lo, hi) as a matrix sharing the same bytes; fused
// projections (Phi-3 qkv_proj, gate_up_proj) are split this way without a copy.
func (m Matrix) RowSlice(lo, hi int) Matrix {
	rb := m.Cols * m.DType.Size()
	return Matrix{DType: m.DType, Rows: hi - lo, Cols: m.Cols, Data: m.Data[lo*rb : hi*rb]}
}

// Bytes returns the size of the weights.
func (m Matrix) Bytes() int64 { return int64(len(m.Data)) }

// Row widens row r into dst (len Cols).
func (m Matrix) Row(r int, dst []float32) {
	ToF32(m.DType, m.Data[r*m.Cols*m.DType.Size():(r+1)*m.Cols*m.DType.Size()], dst)
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
