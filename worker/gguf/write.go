package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/rbee-go/rbee/worker/quant"
)

// Writer builds a GGUF v3 file: metadata in the order added, then tensor
// infos and the data, each tensor at an offset that is a multiple of the
// alignment (llama.cpp's layout: tensors back to back, padded).
type Writer struct {
	alignment uint64
	kvs       []KV
	keys      map[string]int
	tensors   []Tensor
	names     map[string]bool
}

// NewWriter returns an empty writer with the default alignment 32.
func NewWriter() *Writer {
	return &Writer{alignment: DefaultAlignment, keys: map[string]int{}, names: map[string]bool{}}
}

// SetAlignment sets the data alignment (a power of two) and records it as
// general.alignment.
func (w *Writer) SetAlignment(n uint32) error {
	if n == 0 || n&(n-1) != 0 {
		return fmt.Errorf("alignment %d is not a power of two", n)
	}
	w.alignment = uint64(n)
	v := Value{Type: TypeUint32, V: n}
	if i, ok := w.keys[KeyAlignment]; ok {
		w.kvs[i].Value = v
		return nil
	}
	w.keys[KeyAlignment] = len(w.kvs)
	w.kvs = append(w.kvs, KV{KeyAlignment, v})
	return nil
}

// AddKV adds a metadata entry. v is a Go uint8 ... int64, float32, float64,
// bool or string, a slice of one of those, a slice of such slices (an array
// of arrays, to any depth up to the reader's limit), or a Value.
func (w *Writer) AddKV(key string, v any) error {
	if _, dup := w.keys[key]; dup {
		return fmt.Errorf("duplicate metadata key %q", key)
	}
	val, err := toValue(v, 0)
	if err != nil {
		return fmt.Errorf("metadata %s: %w", key, err)
	}
	if key == KeyAlignment {
		a, ok := val.V.(uint32)
		if !ok {
			return fmt.Errorf("metadata %s must be a uint32, got %s", key, val.TypeName())
		}
		return w.SetAlignment(a)
	}
	w.keys[key] = len(w.kvs)
	w.kvs = append(w.kvs, KV{key, val})
	return nil
}

// AddTensor adds a tensor; dims are ne0 first and data must be exactly the
// tensor's byte size in type t.
func (w *Writer) AddTensor(name string, t quant.Type, dims []uint64, data []byte) error {
	if w.names[name] {
		return fmt.Errorf("duplicate tensor name %q", name)
	}
	if len(dims) == 0 || len(dims) > maxDims {
		return fmt.Errorf("tensor %q: %d dimensions (want 1 to %d)", name, len(dims), maxDims)
	}
	if !t.Supported() {
		return fmt.Errorf("tensor %q: %w %s (supported: %s)", name, ErrUnsupportedType, t, quant.SupportedNames())
	}
	elems := uint64(1)
	for _, d := range dims {
		if d == 0 || d > 1<<60/elems {
			return fmt.Errorf("tensor %q: dimension %d in %v is zero or overflows", name, d, dims)
		}
		elems *= d
	}
	if dims[0]%uint64(t.BlockSize()) != 0 {
		return fmt.Errorf("tensor %q: ne0 %d is not a multiple of %s's block size %d", name, dims[0], t, t.BlockSize())
	}
	want, _ := t.RowBytes(int(elems))
	if len(data) != want {
		return fmt.Errorf("tensor %q: %d bytes of data, %s %v needs %d", name, len(data), t, dims, want)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, Tensor{Name: name, Type: t, Dims: append([]uint64(nil), dims...), Data: data})
	return nil
}

// WriteTo writes the file.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	e := &encoder{w: bufio.NewWriterSize(out, 1<<20)}
	e.u32(Magic)
	e.u32(3)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		e.str(kv.Key)
		e.u32(uint32(kv.Value.Type))
		e.value(kv.Value)
	}
	var off uint64
	for _, t := range w.tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.u64(d)
		}
		e.u32(uint32(t.Type))
		e.u64(off)
		off = alignUp(off+uint64(len(t.Data)), w.alignment)
	}
	e.pad(w.alignment)
	for _, t := range w.tensors {
		e.bytes(t.Data)
		e.pad(w.alignment)
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

// WriteFile writes the file atomically: to a temporary file next to path,
// synced, then renamed over it.
func (w *Writer) WriteFile(path string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write GGUF: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp.Name()))
		}
	}()
	if _, err := w.WriteTo(tmp); err != nil {
		return errors.Join(fmt.Errorf("write GGUF %s: %w", path, err), tmp.Close())
	}
	if err := tmp.Sync(); err != nil {
		return errors.Join(fmt.Errorf("write GGUF %s: %w", path, err), tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write GGUF %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write GGUF %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write GGUF %s: %w", path, err)
	}
	return nil
}

// encoder writes little-endian fields and counts bytes; the first error sticks.
type encoder struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (e *encoder) bytes(b []byte) {
	if e.err != nil {
		return
	}
	k, err := e.w.Write(b)
	e.n += int64(k)
	e.err = err
}

func (e *encoder) u8(v uint8)   { e.bytes([]byte{v}) }
func (e *encoder) u16(v uint16) { e.bytes(binary.LittleEndian.AppendUint16(nil, v)) }
func (e *encoder) u32(v uint32) { e.bytes(binary.LittleEndian.AppendUint32(nil, v)) }
func (e *encoder) u64(v uint64) { e.bytes(binary.LittleEndian.AppendUint64(nil, v)) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.bytes([]byte(s)) }

func (e *encoder) pad(a uint64) {
	if k := alignUp(uint64(e.n), a) - uint64(e.n); k > 0 {
		e.bytes(make([]byte, k))
	}
}

// value writes v's payload (its type id was written by the caller).
func (e *encoder) value(v Value) {
	switch x := v.V.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case bool:
		var b uint8
		if x {
			b = 1
		}
		e.u8(b)
	case string:
		e.str(x)
	default:
		e.u32(uint32(v.Elem))
		e.u64(uint64(v.Len()))
		e.array(v)
	}
}

func (e *encoder) array(v Value) {
	switch a := v.V.(type) {
	case []Value:
		for _, x := range a {
			e.value(x) // an element array: its element type, length, elements
		}
	case []string:
		for _, x := range a {
			e.str(x)
		}
	case []bool:
		for _, x := range a {
			e.value(Value{Type: TypeBool, V: x})
		}
	default:
		forEachScalar(a, func(x any) { e.value(Value{Type: v.Elem, V: x}) })
	}
}
