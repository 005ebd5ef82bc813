package gguf_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
)

// raw is a hand-assembled GGUF, so tests can write what the Writer refuses.
type raw struct {
	magic, version uint32
	nT, nKV        uint64 // counts as written; 0 = the real ones
	kvs, tensors   [][]byte
	data           []byte
	align          int // padding before data; 0 = 32
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func gstr(s string) []byte { return append(le64(uint64(len(s))), s...) }
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func kv(key string, t gguf.ValueType, payload ...[]byte) []byte {
	return cat(gstr(key), le32(uint32(t)), cat(payload...))
}

func tinfo(name string, ty quant.Type, off uint64, dims ...uint64) []byte {
	b := cat(gstr(name), le32(uint32(len(dims))))
	for _, d := range dims {
		b = append(b, le64(d)...)
	}
	return cat(b, le32(uint32(ty)), le64(off))
}

func (r raw) bytes() []byte {
	if r.magic == 0 {
		r.magic = gguf.Magic
	}
	if r.version == 0 {
		r.version = 3
	}
	if r.nT == 0 {
		r.nT = uint64(len(r.tensors))
	}
	if r.nKV == 0 {
		r.nKV = uint64(len(r.kvs))
	}
	if r.align == 0 {
		r.align = 32
	}
	b := cat(le32(r.magic), le32(r.version), le64(r.nT), le64(r.nKV), cat(r.kvs...), cat(r.tensors...))
	for len(b)%r.align != 0 {
		b = append(b, 0)
	}
	return append(b, r.data...)
}

func TestCorruptFiles(t *testing.T) {
	f32x2 := tinfo("a", quant.F32, 0, 2)
	for _, tc := range []struct {
		name string
		file []byte
		want string
		is   error
	}{
		{"empty", nil, "truncated file: magic needs 4 bytes at offset 0, 0 left", gguf.ErrInvalid},
		{"no version", le32(gguf.Magic), "truncated file: version", gguf.ErrInvalid},
		{"wrong magic", []byte("GGML\x03\x00\x00\x00"), `wrong magic "GGML"`, gguf.ErrInvalid},
		{"version 1", raw{version: 1}.bytes(), "GGUF version 1 is not supported (only 2 and 3", gguf.ErrInvalid},
		{"version 4", raw{version: 4}.bytes(), "unknown GGUF version 4; supported: 2, 3", gguf.ErrInvalid},
		{"big-endian", raw{version: 3 << 24}.bytes(), "unknown GGUF version 50331648 (a big-endian file?)", gguf.ErrInvalid},
		{"absurd tensor count", raw{nT: 1 << 60}.bytes(), "tensor count 1152921504606846976 cannot fit in the", gguf.ErrInvalid},
		{"absurd kv count", raw{nKV: 1 << 40}.bytes(), "metadata key/value count 1099511627776 cannot fit in the", gguf.ErrInvalid},
		{"absurd key length", raw{nKV: 1, kvs: [][]byte{le64(1 << 50)}, data: make([]byte, 32)}.bytes(), "metadata key #0 length 1125899906842624 cannot fit in the", gguf.ErrInvalid},
		{"absurd array length", raw{kvs: [][]byte{kv("k", gguf.TypeArray, le32(uint32(gguf.TypeUint64)), le64(1<<40))}}.bytes(), "metadata k array length 1099511627776 cannot fit in the", gguf.ErrInvalid},
		{"absurd string array", raw{kvs: [][]byte{kv("k", gguf.TypeArray, le32(uint32(gguf.TypeString)), le64(1<<20))}}.bytes(), "metadata k array length 1048576 cannot fit in the", gguf.ErrInvalid},
		{"truncated value", raw{kvs: [][]byte{kv("k", gguf.TypeUint64, le32(7))}, align: 1}.bytes(), "truncated file: metadata k needs 8 bytes", gguf.ErrInvalid},
		{"unknown value type", raw{kvs: [][]byte{kv("k", 13, le32(0))}}.bytes(), "metadata k: unknown value type 13", gguf.ErrInvalid},
		{"unknown element type", raw{kvs: [][]byte{kv("k", gguf.TypeArray, le32(42), le64(0))}}.bytes(), "metadata k: unknown array element type 42", gguf.ErrInvalid},
		{"bad bool", raw{kvs: [][]byte{kv("k", gguf.TypeBool, []byte{2, 0, 0, 0})}}.bytes(), "metadata k: bool byte 2 is neither 0 nor 1", gguf.ErrInvalid},
		{"nested too deep", raw{kvs: [][]byte{kv("k", gguf.TypeArray, deepArray(9))}}.bytes(), "metadata k: arrays nested deeper than 8", gguf.ErrInvalid},
		{"duplicate key", raw{kvs: [][]byte{kv("k", gguf.TypeUint8, []byte{1}), kv("k", gguf.TypeUint8, []byte{2})}}.bytes(), `duplicate metadata key "k"`, gguf.ErrInvalid},
		{"alignment type", raw{kvs: [][]byte{kv(gguf.KeyAlignment, gguf.TypeUint64, le64(32))}}.bytes(), "general.alignment is uint64, want uint32", gguf.ErrInvalid},
		{"alignment 48", raw{kvs: [][]byte{kv(gguf.KeyAlignment, gguf.TypeUint32, le32(48))}}.bytes(), "general.alignment 48 is not a power of two", gguf.ErrInvalid},
		{"alignment 0", raw{kvs: [][]byte{kv(gguf.KeyAlignment, gguf.TypeUint32, le32(0))}}.bytes(), "general.alignment 0 is not a power of two", gguf.ErrInvalid},
		{"zero dims", raw{tensors: [][]byte{tinfo("a", quant.F32, 0)}, data: make([]byte, 32)}.bytes(), `tensor "a" has 0 dimensions (want 1 to 4)`, gguf.ErrInvalid},
		{"five dims", raw{tensors: [][]byte{tinfo("a", quant.F32, 0, 1, 1, 1, 1, 1)}, data: make([]byte, 32)}.bytes(), `tensor "a" has 5 dimensions`, gguf.ErrInvalid},
		{"dimension 0", raw{tensors: [][]byte{tinfo("a", quant.F32, 0, 4, 0)}, data: make([]byte, 32)}.bytes(), `tensor "a": dimension 0 in [4 0] is zero or overflows`, gguf.ErrInvalid},
		{"dims overflow", raw{tensors: [][]byte{tinfo("a", quant.F32, 0, 1<<31, 1<<31, 1<<31)}, data: make([]byte, 32)}.bytes(), "is zero or overflows", gguf.ErrInvalid},
		{"unsupported type", raw{tensors: [][]byte{tinfo("blk.0.ffn_down.weight", quant.Q2_K, 0, 256)}, data: make([]byte, 96)}.bytes(),
			`tensor "blk.0.ffn_down.weight" has type Q2_K; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K`, gguf.ErrUnsupportedType},
		{"unknown type", raw{tensors: [][]byte{tinfo("a", 99, 0, 32)}, data: make([]byte, 32)}.bytes(), `tensor "a" has type type(99); supported: F32`, gguf.ErrUnsupportedType},
		{"ne0 not a block multiple", raw{tensors: [][]byte{tinfo("a", quant.Q8_0, 0, 16, 2)}, data: make([]byte, 68)}.bytes(), `tensor "a": ne0 16 is not a multiple of Q8_0's block size 32`, gguf.ErrInvalid},
		{"tensor past the end", raw{tensors: [][]byte{f32x2}, data: make([]byte, 4)}.bytes(), `tensor "a" (F32[2], 8 bytes at data offset 0) lies outside the file (data section 4 bytes): truncated file?`, gguf.ErrInvalid},
		{"offset past the end", raw{tensors: [][]byte{tinfo("a", quant.F32, 1<<62, 2)}, data: make([]byte, 8)}.bytes(), "lies outside the file", gguf.ErrInvalid},
		{"no data section", raw{tensors: [][]byte{f32x2}, align: 1}.bytes()[:24+len(f32x2)], "the data section would start at 64, the file has", gguf.ErrInvalid},
		{"misaligned", raw{tensors: [][]byte{tinfo("a", quant.F32, 4, 2)}, data: make([]byte, 64)}.bytes(), `tensor "a": offset 4 is not a multiple of the alignment 32`, gguf.ErrInvalid},
		{"overlap", raw{tensors: [][]byte{tinfo("a", quant.F32, 0, 16), tinfo("b", quant.F32, 32, 4)}, data: make([]byte, 64)}.bytes(), `tensors "a" and "b" overlap (bytes 0-64 and 32-48 of the data section)`, gguf.ErrInvalid},
		{"duplicate tensor", raw{tensors: [][]byte{f32x2, tinfo("a", quant.F32, 32, 2)}, data: make([]byte, 64)}.bytes(), `duplicate tensor name "a"`, gguf.ErrInvalid},
		{"truncated tensor info", raw{nT: 1, tensors: [][]byte{f32x2[:20]}}.bytes()[:24+20], "tensor count 1 cannot fit in the 28 bytes left (truncated file or corrupt count)", gguf.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gguf.Parse(tc.file)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			assert.True(t, errors.Is(err, tc.is), "%v is not %v", err, tc.is)
		})
	}
}

// deepArray is the payload of an array nested depth times around an empty
// uint8 array.
func deepArray(depth int) []byte {
	if depth == 0 {
		return cat(le32(uint32(gguf.TypeUint8)), le64(0))
	}
	return cat(le32(uint32(gguf.TypeArray)), le64(1), deepArray(depth-1))
}

// Every cut of a valid file short of its last tensor byte fails cleanly.
func TestEveryTruncationFails(t *testing.T) {
	w, _ := sample(t, 0)
	full := encode(t, w)
	f, err := gguf.Parse(full)
	require.NoError(t, err)
	end := f.DataOffset
	for _, tn := range f.Tensors {
		end = max(end, f.DataOffset+int64(tn.Offset)+int64(len(tn.Data)))
	}
	for n := 0; n < int(end); n++ {
		_, err := gguf.Parse(full[:n])
		require.Error(t, err, "cut at %d of %d", n, end)
		require.True(t, errors.Is(err, gguf.ErrInvalid), "cut at %d: %v", n, err)
	}
	_, err = gguf.Parse(full[:end])
	require.NoError(t, err, "the trailing padding is optional")
}

func TestNestedArraysAtTheLimitParse(t *testing.T) {
	f, err := gguf.Parse(raw{kvs: [][]byte{kv("k", gguf.TypeArray, deepArray(7))}}.bytes())
	require.NoError(t, err)
	v, _ := f.Lookup("k")
	for range 7 {
		require.Equal(t, gguf.TypeArray, v.Elem)
		v = v.V.([]gguf.Value)[0]
	}
	assert.Equal(t, gguf.TypeUint8, v.Elem)
}
