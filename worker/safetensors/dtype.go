// Package safetensors reads and writes the Hugging Face safetensors format:
// an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {...}} and the raw
// little-endian tensor bytes. Files are memory-mapped read-only, so weights
// are never copied on load.
package safetensors

import (
	"errors"
	"fmt"
)

// DType names a tensor element type as spelled in the safetensors header.
type DType string

// The element types this project reads and writes.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
)

// ErrInvalid marks a malformed safetensors file or index (truncated, bad
// header, offsets out of bounds, size mismatch, duplicates).
var ErrInvalid = errors.New("invalid safetensors")

// ErrUnsupportedDType marks a tensor whose dtype this project cannot use.
var ErrUnsupportedDType = errors.New("unsupported dtype")

// Size returns the byte size of one element.
func (d DType) Size() (int, error) {
	switch d {
	case F32:
		return 4, nil
	case F16, BF16:
		return 2, nil
	}
	return 0, fmt.Errorf("%w %q (supported: F32, F16, BF16)", ErrUnsupportedDType, string(d))
}

// Tensor is one named array. Data is little-endian; tensors returned by a
// Set alias the read-only memory map and must not be written to or used
// after Set.Close.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of Shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// byteSize returns the expected byte length of shape × dtype, rejecting
// negative dimensions and overflow.
func byteSize(dtype DType, shape []int) (int64, error) {
	es, err := dtype.Size()
	if err != nil {
		return 0, err
	}
	n := int64(es)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension %d in shape %v", ErrInvalid, d, shape)
		}
		if d != 0 && n > (1<<62)/int64(d) {
			return 0, fmt.Errorf("%w: shape %v overflows", ErrInvalid, shape)
		}
		n *= int64(d)
	}
	return n, nil
}
