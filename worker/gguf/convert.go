package gguf

import (
	"fmt"
	"reflect"
)

// goTypes maps the Go scalar kinds AddKV accepts to GGUF value types.
var goTypes = map[reflect.Kind]ValueType{
	reflect.Uint8: TypeUint8, reflect.Int8: TypeInt8, reflect.Uint16: TypeUint16, reflect.Int16: TypeInt16,
	reflect.Uint32: TypeUint32, reflect.Int32: TypeInt32, reflect.Float32: TypeFloat32, reflect.Bool: TypeBool,
	reflect.String: TypeString, reflect.Uint64: TypeUint64, reflect.Int64: TypeInt64, reflect.Float64: TypeFloat64,
}

// toValue converts a Go value for AddKV. Scalars keep their exact Go type
// (plain int is refused: GGUF has no such size).
func toValue(v any, depth int) (Value, error) {
	if val, ok := v.(Value); ok {
		return val, nil
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return Value{}, fmt.Errorf("nil value")
	}
	if t, ok := goTypes[rv.Kind()]; ok {
		return Value{Type: t, V: rv.Convert(reflect.TypeOf(scalarZero[t])).Interface()}, nil
	}
	if rv.Kind() != reflect.Slice {
		return Value{}, fmt.Errorf("cannot store a Go %T in GGUF (use uint8..int64, float32/64, bool, string or slices of them)", v)
	}
	if depth >= maxDepth-1 {
		return Value{}, fmt.Errorf("arrays nested deeper than %d", maxDepth)
	}
	ek := rv.Type().Elem().Kind()
	if t, ok := goTypes[ek]; ok {
		// copy into the canonical slice type ([]uint8, []string, ...)
		out := reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(scalarZero[t])), rv.Len(), rv.Len())
		for i := 0; i < rv.Len(); i++ {
			out.Index(i).Set(rv.Index(i).Convert(out.Type().Elem()))
		}
		return Value{Type: TypeArray, Elem: t, V: out.Interface()}, nil
	}
	if ek != reflect.Slice && ek != reflect.Interface {
		return Value{}, fmt.Errorf("cannot store a Go %T in GGUF", v)
	}
	out := make([]Value, rv.Len())
	for i := range out {
		el, err := toValue(rv.Index(i).Interface(), depth+1)
		if err != nil {
			return Value{}, err
		}
		if el.Type != TypeArray {
			return Value{}, fmt.Errorf("element %d of an array of arrays is a %s", i, el.TypeName())
		}
		out[i] = el
	}
	return Value{Type: TypeArray, Elem: TypeArray, V: out}, nil
}

var scalarZero = map[ValueType]any{
	TypeUint8: uint8(0), TypeInt8: int8(0), TypeUint16: uint16(0), TypeInt16: int16(0),
	TypeUint32: uint32(0), TypeInt32: int32(0), TypeFloat32: float32(0), TypeBool: false,
	TypeString: "", TypeUint64: uint64(0), TypeInt64: int64(0), TypeFloat64: float64(0),
}

// forEachScalar calls fn with each element of a numeric slice.
func forEachScalar(a any, fn func(any)) {
	rv := reflect.ValueOf(a)
	for i := 0; i < rv.Len(); i++ {
		fn(rv.Index(i).Interface())
	}
}
