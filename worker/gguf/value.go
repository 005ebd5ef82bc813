package gguf

import (
	"fmt"
	"math"
	"strings"
)

// ValueType is a GGUF metadata value type (gguf_type).
type ValueType uint32

// The metadata value types, with their ids in the file.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("value-type(%d)", uint32(t))
}

// size is the fixed encoded size of a scalar type (0 for string and array).
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Value is one metadata value. V holds the Go form: uint8, int8, uint16,
// int16, uint32, int32, float32, bool, string, uint64, int64 or float64 for
// scalars; for arrays (Type == TypeArray, element type Elem) a slice of
// those ([]uint8 ... []string), or []Value for an array of arrays.
type Value struct {
	Type ValueType
	Elem ValueType // arrays only
	V    any
}

// TypeName is the type as error messages spell it: "uint32",
// "array of string", "array of array".
func (v Value) TypeName() string {
	if v.Type == TypeArray {
		return "array of " + v.Elem.String()
	}
	return v.Type.String()
}

// Len is the number of elements of an array (0 for scalars).
func (v Value) Len() int {
	switch a := v.V.(type) {
	case []Value:
		return len(a)
	case []string:
		return len(a)
	case []bool:
		return len(a)
	}
	if v.Type != TypeArray {
		return 0
	}
	n := 0
	forEachNumber(v.V, func(int, float64, int64, uint64) { n++ })
	return n
}

// String renders scalars as their value and long arrays shortened.
func (v Value) String() string {
	if v.Type != TypeArray {
		if s, ok := v.V.(string); ok {
			return fmt.Sprintf("%q", s)
		}
		return fmt.Sprint(v.V)
	}
	const show = 8
	var parts []string
	switch a := v.V.(type) {
	case []Value:
		for i := 0; i < len(a) && i < show; i++ {
			parts = append(parts, a[i].String())
		}
	case []string:
		for i := 0; i < len(a) && i < show; i++ {
			parts = append(parts, fmt.Sprintf("%q", a[i]))
		}
	default:
		s := fmt.Sprint(a)
		parts = strings.Fields(strings.Trim(s, "[]"))
		if len(parts) > show {
			parts = parts[:show]
		}
	}
	if n := v.Len(); n > len(parts) {
		parts = append(parts, fmt.Sprintf("... (%d)", n))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// forEachNumber calls fn for each element of a numeric slice with its float,
// signed and unsigned forms; kind is 0 for unsigned, 1 signed, 2 float.
func forEachNumber(a any, fn func(kind int, f float64, i int64, u uint64)) bool {
	switch s := a.(type) {
	case []uint8:
		eachUnsigned(s, fn)
	case []uint16:
		eachUnsigned(s, fn)
	case []uint32:
		eachUnsigned(s, fn)
	case []uint64:
		eachUnsigned(s, fn)
	case []int8:
		eachSigned(s, fn)
	case []int16:
		eachSigned(s, fn)
	case []int32:
		eachSigned(s, fn)
	case []int64:
		eachSigned(s, fn)
	case []float32:
		eachFloat(s, fn)
	case []float64:
		eachFloat(s, fn)
	default:
		return false
	}
	return true
}

func eachUnsigned[T uint8 | uint16 | uint32 | uint64](s []T, fn func(int, float64, int64, uint64)) {
	for _, x := range s {
		fn(0, float64(x), int64(x), uint64(x))
	}
}

func eachSigned[T int8 | int16 | int32 | int64](s []T, fn func(int, float64, int64, uint64)) {
	for _, x := range s {
		fn(1, float64(x), int64(x), uint64(x))
	}
}

func eachFloat[T float32 | float64](s []T, fn func(int, float64, int64, uint64)) {
	for _, x := range s {
		fn(2, float64(x), 0, 0)
	}
}

// scalarNumber is forEachNumber for one scalar.
func scalarNumber(a any) (kind int, f float64, i int64, u uint64, ok bool) {
	switch x := a.(type) {
	case uint8:
		return 0, float64(x), int64(x), uint64(x), true
	case uint16:
		return 0, float64(x), int64(x), uint64(x), true
	case uint32:
		return 0, float64(x), int64(x), uint64(x), true
	case uint64:
		return 0, float64(x), int64(min(x, math.MaxInt64)), x, true
	case int8:
		return 1, float64(x), int64(x), uint64(x), true
	case int16:
		return 1, float64(x), int64(x), uint64(x), true
	case int32:
		return 1, float64(x), int64(x), uint64(x), true
	case int64:
		return 1, float64(x), x, uint64(x), true
	case float32:
		return 2, float64(x), 0, 0, true
	case float64:
		return 2, x, 0, 0, true
	}
	return 0, 0, 0, 0, false
}
