package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// maxDepth bounds arrays of arrays, so a hostile file cannot recurse the
// reader off its stack.
const maxDepth = 8

// decoder reads little-endian GGUF fields from data with bounds checks; the
// first failure sticks and every later read returns zeros.
type decoder struct {
	data []byte
	pos  int
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
}

func (d *decoder) remaining() int { return len(d.data) - d.pos }

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.remaining() {
		d.fail("truncated file: %s needs %d bytes at offset %d, %d left", what, n, d.pos, max(0, d.remaining()))
		return nil
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b
}

func (d *decoder) u8(what string) uint8 {
	if b := d.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16(what string) uint16 {
	if b := d.take(2, what); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if b := d.take(4, what); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if b := d.take(8, what); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// count reads a uint64 count of items each at least minSize bytes long and
// refuses one the rest of the file cannot hold, before anything is allocated.
func (d *decoder) count(what string, minSize int) int {
	n := d.u64(what)
	if d.err == nil && n > uint64(d.remaining()/minSize) {
		d.fail("%s %d cannot fit in the %d bytes left (truncated file or corrupt count)", what, n, d.remaining())
		return 0
	}
	return int(n)
}

func (d *decoder) str(what string) string {
	n := d.count(what+" length", 1)
	return string(d.take(n, what))
}

// value reads a value of type t.
func (d *decoder) value(t ValueType, what string, depth int) Value {
	v := Value{Type: t}
	switch t {
	case TypeUint8:
		v.V = d.u8(what)
	case TypeInt8:
		v.V = int8(d.u8(what))
	case TypeUint16:
		v.V = d.u16(what)
	case TypeInt16:
		v.V = int16(d.u16(what))
	case TypeUint32:
		v.V = d.u32(what)
	case TypeInt32:
		v.V = int32(d.u32(what))
	case TypeFloat32:
		v.V = math.Float32frombits(d.u32(what))
	case TypeUint64:
		v.V = d.u64(what)
	case TypeInt64:
		v.V = int64(d.u64(what))
	case TypeFloat64:
		v.V = math.Float64frombits(d.u64(what))
	case TypeBool:
		b := d.u8(what)
		if b > 1 {
			d.fail("%s: bool byte %d is neither 0 nor 1", what, b)
		}
		v.V = b == 1
	case TypeString:
		v.V = d.str(what)
	case TypeArray:
		v.Elem, v.V = d.array(what, depth)
	default:
		d.fail("%s: unknown value type %d", what, uint32(t))
	}
	return v
}

// array reads an array's element type, count and elements.
func (d *decoder) array(what string, depth int) (ValueType, any) {
	if depth >= maxDepth {
		d.fail("%s: arrays nested deeper than %d", what, maxDepth)
		return 0, nil
	}
	elem := ValueType(d.u32(what + " element type"))
	minSize := elem.size()
	switch elem {
	case TypeString:
		minSize = 8
	case TypeArray:
		minSize = 12
	}
	if d.err == nil && minSize == 0 {
		d.fail("%s: unknown array element type %d", what, uint32(elem))
	}
	if d.err != nil {
		return elem, nil
	}
	n := d.count(what+" array length", minSize)
	if d.err != nil {
		return elem, nil
	}
	switch elem {
	case TypeString:
		out := make([]string, n)
		for i := range out {
			out[i] = d.str(what)
		}
		return elem, out
	case TypeArray:
		out := make([]Value, n)
		for i := range out {
			out[i] = d.value(TypeArray, what, depth+1)
		}
		return elem, out
	case TypeBool:
		out := make([]bool, n)
		for i := range out {
			out[i] = d.value(TypeBool, what, depth).V.(bool)
		}
		return elem, out
	}
	raw := d.take(n*minSize, what)
	if raw == nil {
		return elem, nil
	}
	return elem, decodeNumbers(elem, raw, n)
}

func decodeNumbers(elem ValueType, raw []byte, n int) any {
	le := binary.LittleEndian
	switch elem {
	case TypeUint8:
		return append([]uint8(nil), raw...)
	case TypeInt8:
		return fill(n, func(i int) int8 { return int8(raw[i]) })
	case TypeUint16:
		return fill(n, func(i int) uint16 { return le.Uint16(raw[2*i:]) })
	case TypeInt16:
		return fill(n, func(i int) int16 { return int16(le.Uint16(raw[2*i:])) })
	case TypeUint32:
		return fill(n, func(i int) uint32 { return le.Uint32(raw[4*i:]) })
	case TypeInt32:
		return fill(n, func(i int) int32 { return int32(le.Uint32(raw[4*i:])) })
	case TypeFloat32:
		return fill(n, func(i int) float32 { return math.Float32frombits(le.Uint32(raw[4*i:])) })
	case TypeUint64:
		return fill(n, func(i int) uint64 { return le.Uint64(raw[8*i:]) })
	case TypeInt64:
		return fill(n, func(i int) int64 { return int64(le.Uint64(raw[8*i:])) })
	default: // TypeFloat64
		return fill(n, func(i int) float64 { return math.Float64frombits(le.Uint64(raw[8*i:])) })
	}
}

func fill[T any](n int, at func(int) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = at(i)
	}
	return out
}
