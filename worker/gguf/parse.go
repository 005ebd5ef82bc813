package gguf

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rbee-go/rbee/worker/quant"
)

// Parse parses a whole GGUF file held in memory; tensors alias data.
func Parse(data []byte) (*File, error) {
	d := &decoder{data: data}
	magic := d.u32("magic")
	if d.err != nil {
		return nil, d.err
	}
	if magic != Magic {
		return nil, fmt.Errorf("%w: wrong magic %q (want \"GGUF\")", ErrInvalid, data[:4])
	}
	f := &File{Version: d.u32("version"), Alignment: DefaultAlignment, kv: map[string]int{}, tensors: map[string]int{}}
	switch {
	case d.err != nil:
		return nil, d.err
	case f.Version == 1:
		return nil, fmt.Errorf("%w: GGUF version 1 is not supported (only 2 and 3; re-convert the model with a current llama.cpp)", ErrInvalid)
	case f.Version != 2 && f.Version != 3:
		hint := ""
		if f.Version&0xffff == 0 {
			hint = " (a big-endian file?)"
		}
		return nil, fmt.Errorf("%w: unknown GGUF version %d%s; supported: 2, 3", ErrInvalid, f.Version, hint)
	}
	// a tensor info takes at least 32 bytes, a key/value at least 13
	nTensors := d.count("tensor count", 32)
	nKV := d.count("metadata key/value count", 13)
	if d.err != nil {
		return nil, d.err
	}
	f.KVs = make([]KV, 0, nKV)
	for i := 0; i < nKV && d.err == nil; i++ {
		key := d.str(fmt.Sprintf("metadata key #%d", i))
		t := ValueType(d.u32("value type of " + key))
		v := d.value(t, "metadata "+key, 0)
		if d.err != nil {
			break
		}
		if _, dup := f.kv[key]; dup {
			return nil, fmt.Errorf("%w: duplicate metadata key %q", ErrInvalid, key)
		}
		f.kv[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{key, v})
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := f.setAlignment(); err != nil {
		return nil, err
	}
	f.Tensors = make([]Tensor, 0, nTensors)
	for i := 0; i < nTensors && d.err == nil; i++ {
		t := readTensorInfo(d, i)
		if d.err != nil {
			break
		}
		if _, dup := f.tensors[t.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate tensor name %q", ErrInvalid, t.Name)
		}
		f.tensors[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	if d.err != nil {
		return nil, d.err
	}
	f.DataOffset = int64(alignUp(uint64(d.pos), f.Alignment))
	if len(f.Tensors) > 0 && f.DataOffset > int64(len(data)) {
		return nil, fmt.Errorf("%w: truncated file: the data section would start at %d, the file has %d bytes", ErrInvalid, f.DataOffset, len(data))
	}
	if err := f.placeTensors(data); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) setAlignment() error {
	v, ok := f.Lookup(KeyAlignment)
	if !ok {
		return nil
	}
	a, isU32 := v.V.(uint32)
	if !isU32 {
		return fmt.Errorf("%w: %s is %s, want uint32", ErrInvalid, KeyAlignment, v.TypeName())
	}
	if a == 0 || a&(a-1) != 0 {
		return fmt.Errorf("%w: %s %d is not a power of two", ErrInvalid, KeyAlignment, a)
	}
	f.Alignment = uint64(a)
	return nil
}

func readTensorInfo(d *decoder, i int) Tensor {
	t := Tensor{Name: d.str(fmt.Sprintf("tensor #%d name", i))}
	nDims := d.u32("dimension count of tensor " + t.Name)
	if d.err != nil {
		return t
	}
	if nDims == 0 || nDims > maxDims {
		d.fail("tensor %q has %d dimensions (want 1 to %d)", t.Name, nDims, maxDims)
		return t
	}
	t.Dims = make([]uint64, nDims)
	elems := uint64(1)
	for j := range t.Dims {
		t.Dims[j] = d.u64("dimensions of tensor " + t.Name)
		if dim := t.Dims[j]; d.err == nil && (dim == 0 || dim > 1<<60/elems) {
			d.fail("tensor %q: dimension %d in %v is zero or overflows", t.Name, dim, t.Dims)
		}
		elems *= max(t.Dims[j], 1)
	}
	t.Type = quant.Type(d.u32("type of tensor " + t.Name))
	t.Offset = d.u64("offset of tensor " + t.Name)
	if d.err != nil {
		return t
	}
	if !t.Type.Supported() {
		d.err = fmt.Errorf("%w: tensor %q has type %s; supported: %s", ErrUnsupportedType, t.Name, t.Type, quant.SupportedNames())
		return t
	}
	if bs := uint64(t.Type.BlockSize()); t.Dims[0]%bs != 0 {
		d.fail("tensor %q: ne0 %d is not a multiple of %s's block size %d", t.Name, t.Dims[0], t.Type, bs)
	}
	return t
}

// placeTensors checks each tensor's offset and size against the data section
// and the others, then points Data into it.
func (f *File) placeTensors(data []byte) error {
	dataLen := uint64(len(data)) - min(uint64(f.DataOffset), uint64(len(data)))
	order := make([]int, len(f.Tensors))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		order[i] = i
		if t.Offset%f.Alignment != 0 {
			return fmt.Errorf("%w: tensor %q: offset %d is not a multiple of the alignment %d", ErrInvalid, t.Name, t.Offset, f.Alignment)
		}
		rowBytes, _ := t.Type.RowBytes(int(t.Dims[0])) // ne0 was checked against the block size
		size := uint64(rowBytes)
		for _, dim := range t.Dims[1:] {
			size *= dim // elements ≤ 2^60 and ≤ 4 bytes each: no overflow
		}
		if t.Offset > dataLen || size > dataLen-t.Offset {
			return fmt.Errorf("%w: tensor %q (%s, %d bytes at data offset %d) lies outside the file (data section %d bytes): truncated file?", ErrInvalid, t.Name, describe(*t), size, t.Offset, dataLen)
		}
		start := uint64(f.DataOffset) + t.Offset
		t.Data = data[start : start+size : start+size]
	}
	sort.Slice(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	for k := 1; k < len(order); k++ {
		prev, cur := f.Tensors[order[k-1]], f.Tensors[order[k]]
		if prev.Offset+uint64(len(prev.Data)) > cur.Offset {
			return fmt.Errorf("%w: tensors %q and %q overlap (bytes %d-%d and %d-%d of the data section)", ErrInvalid,
				prev.Name, cur.Name, prev.Offset, prev.Offset+uint64(len(prev.Data)), cur.Offset, cur.Offset+uint64(len(cur.Data)))
		}
	}
	return nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// describe names a tensor's shape for messages, ne0 first.
func describe(t Tensor) string {
	dims := make([]string, len(t.Dims))
	for i, d := range t.Dims {
		dims[i] = fmt.Sprint(d)
	}
	return t.Type.String() + "[" + strings.Join(dims, "×") + "]"
}
