package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Conversions between F32 and the 16-bit float types. Hand-written because
// they are a few lines each and no dependency in go.mod provides them.

// BF16ToF32 widens a bfloat16 bit pattern (exact).
func BF16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// F32ToBF16 rounds to the nearest bfloat16, ties to even; NaN stays NaN.
func F32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 { // NaN: keep it quiet and non-zero
		return uint16(u>>16) | 0x0040
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// F16ToF32 widens an IEEE 754 half-precision bit pattern (exact).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0: // ±0
		return math.Float32frombits(sign)
	}
	// subnormal: value = mant × 2^-24
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// F32ToF16 rounds to the nearest half-precision value, ties to even;
// overflow gives ±Inf, NaN stays NaN.
func F32ToF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	exp := int32(u>>23) & 0xff
	mant := u & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 { // below half the smallest subnormal: rounds to zero
			return sign
		}
		m := mant | 0x800000 // implicit bit
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r) // a carry into bit 10 correctly yields the smallest normal
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // a carry may roll into the exponent, up to Inf: still correct
	}
	return sign | uint16(r)
}

// ToF32 decodes a tensor of any supported dtype into a new []float32.
func ToF32(t Tensor) ([]float32, error) {
	want, err := byteSize(t.DType, t.Shape)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if int64(len(t.Data)) != want {
		return nil, fmt.Errorf("tensor %q: %w: %d bytes, shape %v × %s needs %d", t.Name, ErrInvalid, len(t.Data), t.Shape, t.DType, want)
	}
	out := make([]float32, t.NumElements())
	d := t.Data
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BF16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	}
	return out, nil
}

// FromF32 encodes values as a tensor of the given dtype (rounding to
// nearest even for the 16-bit types).
func FromF32(name string, dtype DType, shape []int, values []float32) (Tensor, error) {
	want, err := byteSize(dtype, shape)
	if err != nil {
		return Tensor{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	es, _ := dtype.Size()
	if int64(len(values))*int64(es) != want {
		return Tensor{}, fmt.Errorf("tensor %q: %w: %d values for shape %v", name, ErrInvalid, len(values), shape)
	}
	data := make([]byte, want)
	switch dtype {
	case F32:
		for i, v := range values {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
	case BF16:
		for i, v := range values {
			binary.LittleEndian.PutUint16(data[2*i:], F32ToBF16(v))
		}
	case F16:
		for i, v := range values {
			binary.LittleEndian.PutUint16(data[2*i:], F32ToF16(v))
		}
	}
	return Tensor{Name: name, DType: dtype, Shape: append([]int{}, shape...), Data: data}, nil
}
