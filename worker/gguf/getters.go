package gguf

import (
	"fmt"
	"math"
)

// The typed getters: a missing key is an error wrapping ErrMissingKey that
// names it; a value of another type is an ErrInvalid naming the key, the
// wanted and the actual type.

func (f *File) get(key string) (Value, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return Value{}, fmt.Errorf("%w %q", ErrMissingKey, key)
	}
	return v, nil
}

func wrongType(key, want string, v Value) error {
	return fmt.Errorf("%w: metadata %s is %s, want %s", ErrInvalid, key, v.TypeName(), want)
}

// String returns a string value.
func (f *File) String(key string) (string, error) {
	v, err := f.get(key)
	if err != nil {
		return "", err
	}
	s, ok := v.V.(string)
	if !ok {
		return "", wrongType(key, "string", v)
	}
	return s, nil
}

// Uint returns a value of any integer type; negative values are refused.
func (f *File) Uint(key string) (uint64, error) {
	v, err := f.get(key)
	if err != nil {
		return 0, err
	}
	kind, _, i, u, ok := scalarNumber(v.V)
	switch {
	case !ok || kind == 2:
		return 0, wrongType(key, "an unsigned integer", v)
	case kind == 1 && i < 0:
		return 0, fmt.Errorf("%w: metadata %s is %d, want a non-negative integer", ErrInvalid, key, i)
	case kind == 1:
		return uint64(i), nil
	}
	return u, nil
}

// Float returns a float32, float64 or integer value as float64.
func (f *File) Float(key string) (float64, error) {
	v, err := f.get(key)
	if err != nil {
		return 0, err
	}
	_, x, _, _, ok := scalarNumber(v.V)
	if !ok {
		return 0, wrongType(key, "a number", v)
	}
	return x, nil
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, error) {
	v, err := f.get(key)
	if err != nil {
		return false, err
	}
	b, ok := v.V.(bool)
	if !ok {
		return false, wrongType(key, "bool", v)
	}
	return b, nil
}

// Strings returns an array of strings.
func (f *File) Strings(key string) ([]string, error) {
	v, err := f.get(key)
	if err != nil {
		return nil, err
	}
	s, ok := v.V.([]string)
	if !ok {
		return nil, wrongType(key, "array of string", v)
	}
	return s, nil
}

// Float32s returns an array of float32 (float64 and integer arrays are
// converted).
func (f *File) Float32s(key string) ([]float32, error) {
	v, err := f.get(key)
	if err != nil {
		return nil, err
	}
	if s, ok := v.V.([]float32); ok {
		return s, nil
	}
	out := make([]float32, 0, v.Len())
	if v.Type != TypeArray || !forEachNumber(v.V, func(_ int, x float64, _ int64, _ uint64) { out = append(out, float32(x)) }) {
		return nil, wrongType(key, "array of float32", v)
	}
	return out, nil
}

// Int32s returns an array of int32; other integer arrays are accepted when
// every element fits.
func (f *File) Int32s(key string) ([]int32, error) {
	v, err := f.get(key)
	if err != nil {
		return nil, err
	}
	if s, ok := v.V.([]int32); ok {
		return s, nil
	}
	out := make([]int32, 0, v.Len())
	fits := true
	isNum := v.Type == TypeArray && forEachNumber(v.V, func(kind int, _ float64, i int64, u uint64) {
		switch {
		case kind == 2:
			fits = false
		case kind == 0 && u > math.MaxInt32, kind == 1 && (i < math.MinInt32 || i > math.MaxInt32):
			fits = false
		}
		out = append(out, int32(i))
	})
	if !isNum || v.Elem == TypeFloat32 || v.Elem == TypeFloat64 {
		return nil, wrongType(key, "array of int32", v)
	}
	if !fits {
		return nil, fmt.Errorf("%w: metadata %s (%s) has elements outside int32", ErrInvalid, key, v.TypeName())
	}
	return out, nil
}

// Architecture returns general.architecture.
func (f *File) Architecture() (string, error) { return f.String("general.architecture") }
