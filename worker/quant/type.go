// Package quant holds the ggml tensor types as GGUF stores them and the
// reference (de)quantization of the ones this project reads: the block
// layouts are ggml's (ggml-common.h) byte for byte, and Dequantize and
// Quantize compute what ggml's dequantize_row_* and quantize_row_*_ref do,
// bit for bit, so files written here load in llama.cpp and the other way
// round. Fast kernels live elsewhere; these are the references they are
// checked against.
package quant

import (
	"errors"
	"fmt"
	"strings"
)

// Type is a ggml_type id as stored in a GGUF tensor info.
type Type uint32

// The ggml_type ids (ggml.h). Gaps are ids ggml retired (Q4_2, Q4_3, the
// interleaved Q4_0_4_4... and IQ4_NL_4_4... repackings).
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35
	MXFP4   Type = 39
)

// QK_K is the super-block size of the K-quants.
const QK_K = 256

// ErrUnsupportedType marks a tensor type this project cannot decode.
var ErrUnsupportedType = errors.New("unsupported tensor type")

type traits struct {
	name      string
	blockSize int // elements per block
	typeSize  int // bytes per block
	supported bool
}

// table is ggml's type_traits (ggml.c): name, blck_size, type_size.
var table = map[Type]traits{
	F32:     {"F32", 1, 4, true},
	F16:     {"F16", 1, 2, true},
	Q4_0:    {"Q4_0", 32, 18, true},
	Q4_1:    {"Q4_1", 32, 20, true},
	Q5_0:    {"Q5_0", 32, 22, true},
	Q5_1:    {"Q5_1", 32, 24, true},
	Q8_0:    {"Q8_0", 32, 34, true},
	Q8_1:    {"Q8_1", 32, 36, false},
	Q2_K:    {"Q2_K", QK_K, 84, false},
	Q3_K:    {"Q3_K", QK_K, 110, false},
	Q4_K:    {"Q4_K", QK_K, 144, true},
	Q5_K:    {"Q5_K", QK_K, 176, true},
	Q6_K:    {"Q6_K", QK_K, 210, true},
	Q8_K:    {"Q8_K", QK_K, 292, false},
	IQ2_XXS: {"IQ2_XXS", QK_K, 66, false},
	IQ2_XS:  {"IQ2_XS", QK_K, 74, false},
	IQ3_XXS: {"IQ3_XXS", QK_K, 98, false},
	IQ1_S:   {"IQ1_S", QK_K, 50, false},
	IQ4_NL:  {"IQ4_NL", 32, 18, false},
	IQ3_S:   {"IQ3_S", QK_K, 110, false},
	IQ2_S:   {"IQ2_S", QK_K, 82, false},
	IQ4_XS:  {"IQ4_XS", QK_K, 136, false},
	I8:      {"I8", 1, 1, false},
	I16:     {"I16", 1, 2, false},
	I32:     {"I32", 1, 4, false},
	I64:     {"I64", 1, 8, false},
	F64:     {"F64", 1, 8, false},
	IQ1_M:   {"IQ1_M", QK_K, 56, false},
	BF16:    {"BF16", 1, 2, true},
	TQ1_0:   {"TQ1_0", QK_K, 54, false},
	TQ2_0:   {"TQ2_0", QK_K, 66, false},
	MXFP4:   {"MXFP4", 32, 17, false},
}

// supportedTypes is the order Supported lists them in.
var supportedTypes = []Type{F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K}

// String is ggml's name of the type; unknown ids print as "type(N)".
func (t Type) String() string {
	if tr, ok := table[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether t is a ggml type id (whether or not it is supported).
func (t Type) Known() bool { _, ok := table[t]; return ok }

// BlockSize is the number of elements per block (0 for unknown ids).
func (t Type) BlockSize() int { return table[t].blockSize }

// TypeSize is the number of bytes per block (0 for unknown ids).
func (t Type) TypeSize() int { return table[t].typeSize }

// Supported reports whether Dequantize and Quantize handle t.
func (t Type) Supported() bool { return table[t].supported }

// Supported lists the types this project decodes.
func Supported() []Type { return append([]Type(nil), supportedTypes...) }

// SupportedNames is Supported as "F32, F16, ..." for error messages.
func SupportedNames() string {
	names := make([]string, len(supportedTypes))
	for i, t := range supportedTypes {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}

// RowBytes is the byte size of n elements of type t; n must be a
// non-negative multiple of the block size.
func (t Type) RowBytes(n int) (int, error) {
	tr, ok := table[t]
	if !ok {
		return 0, fmt.Errorf("%w %s", ErrUnsupportedType, t)
	}
	if n < 0 || n%tr.blockSize != 0 {
		return 0, fmt.Errorf("%d elements of %s: not a multiple of its block size %d", n, t, tr.blockSize)
	}
	return n / tr.blockSize * tr.typeSize, nil
}

// check validates a (type, element count, byte count) triple.
func check(t Type, elems, bytes int) error {
	if !t.Supported() {
		return fmt.Errorf("%w %s (supported: %s)", ErrUnsupportedType, t, SupportedNames())
	}
	want, err := t.RowBytes(elems)
	if err != nil {
		return err
	}
	if bytes != want {
		return fmt.Errorf("%d elements of %s need %d bytes, got %d", elems, t, want, bytes)
	}
	return nil
}
