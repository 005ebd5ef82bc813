// Package gguf reads and writes GGUF files (versions 2 and 3), the single-file
// model format of llama.cpp: a header, typed metadata key/values, tensor
// infos and the aligned tensor data. Open memory-maps the file read-only and
// tensors alias the mapping, so weights are never copied; every offset, size
// and count is validated before use.
package gguf

import (
	"errors"
	"fmt"
	"os"

	"github.com/rbee-go/rbee/internal/mmap"
	"github.com/rbee-go/rbee/worker/quant"
)

// Magic is "GGUF" as the little-endian uint32 at the start of every file.
const Magic = 0x46554747

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// KeyAlignment is the metadata key that sets the data alignment.
const KeyAlignment = "general.alignment"

// maxDims is ggml's GGML_MAX_DIMS.
const maxDims = 4

var (
	// ErrInvalid marks a malformed GGUF file.
	ErrInvalid = errors.New("invalid GGUF")
	// ErrMissingKey marks a metadata key the caller needs and the file lacks.
	ErrMissingKey = errors.New("missing GGUF metadata key")
	// ErrUnsupportedType marks a tensor type this project cannot decode.
	ErrUnsupportedType = quant.ErrUnsupportedType
)

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// Tensor is one tensor info and its bytes. Dims are ggml's ne: ne0 (the
// contiguous, innermost dimension) first. Data aliases the file mapping:
// read-only, valid until File.Close.
type Tensor struct {
	Name   string
	Type   quant.Type
	Dims   []uint64
	Offset uint64 // from File.DataOffset
	Data   []byte
}

// Elements is the product of Dims.
func (t Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= int64(d)
	}
	return n
}

// Dequantize decodes the tensor to float32 (ggml's reference decoding).
func (t Tensor) Dequantize() ([]float32, error) {
	out := make([]float32, t.Elements())
	if err := quant.Dequantize(t.Type, t.Data, out); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return out, nil
}

// File is a parsed GGUF file.
type File struct {
	Version    uint32
	Alignment  uint64
	KVs        []KV // in file order
	Tensors    []Tensor
	DataOffset int64 // where the data section starts in the file

	kv      map[string]int
	tensors map[string]int
	mapping []byte // non-nil when Open mapped the file
}

// Mapped reports the bytes of the mapped file and how many of them the
// kernel maps in 2 MiB pages (0, 0 for a file not opened by Open).
func (f *File) Mapped() (bytes, huge int64) {
	return int64(len(f.mapping)), mmap.HugeBytes(f.mapping)
}

// Open memory-maps path and parses it; Close releases the mapping.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open GGUF: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open GGUF: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open GGUF: %s is a directory", path)
	}
	data, err := mmap.Map(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open GGUF: map %s: %w", path, err)
	}
	gf, err := Parse(data)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", path, err), mmap.Unmap(data))
	}
	gf.mapping = data
	return gf, nil
}

// Close unmaps the file (if Open mapped it); tensors become invalid.
func (f *File) Close() error {
	m := f.mapping
	f.mapping, f.Tensors = nil, nil
	if m == nil {
		return nil
	}
	return mmap.Unmap(m)
}

// Lookup returns the value of key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.kv[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.tensors[name]
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}
