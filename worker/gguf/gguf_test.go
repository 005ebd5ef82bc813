package gguf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
)

// everyType is one metadata entry of each value type, plus arrays of each
// and arrays of arrays.
var everyType = []struct {
	key  string
	v    any
	want gguf.Value
}{
	{"t.u8", uint8(200), gguf.Value{Type: gguf.TypeUint8, V: uint8(200)}},
	{"t.i8", int8(-100), gguf.Value{Type: gguf.TypeInt8, V: int8(-100)}},
	{"t.u16", uint16(60000), gguf.Value{Type: gguf.TypeUint16, V: uint16(60000)}},
	{"t.i16", int16(-30000), gguf.Value{Type: gguf.TypeInt16, V: int16(-30000)}},
	{"t.u32", uint32(4000000000), gguf.Value{Type: gguf.TypeUint32, V: uint32(4000000000)}},
	{"t.i32", int32(-2000000000), gguf.Value{Type: gguf.TypeInt32, V: int32(-2000000000)}},
	{"t.f32", float32(1e-5), gguf.Value{Type: gguf.TypeFloat32, V: float32(1e-5)}},
	{"t.bool", true, gguf.Value{Type: gguf.TypeBool, V: true}},
	{"t.str", "héllo\x00world", gguf.Value{Type: gguf.TypeString, V: "héllo\x00world"}},
	{"t.u64", uint64(math.MaxUint64), gguf.Value{Type: gguf.TypeUint64, V: uint64(math.MaxUint64)}},
	{"t.i64", int64(math.MinInt64), gguf.Value{Type: gguf.TypeInt64, V: int64(math.MinInt64)}},
	{"t.f64", math.Pi, gguf.Value{Type: gguf.TypeFloat64, V: math.Pi}},
	{"a.u8", []uint8{1, 2}, arr(gguf.TypeUint8, []uint8{1, 2})},
	{"a.i8", []int8{-1}, arr(gguf.TypeInt8, []int8{-1})},
	{"a.u16", []uint16{7}, arr(gguf.TypeUint16, []uint16{7})},
	{"a.i16", []int16{-7, 7}, arr(gguf.TypeInt16, []int16{-7, 7})},
	{"a.u32", []uint32{3, 4}, arr(gguf.TypeUint32, []uint32{3, 4})},
	{"a.i32", []int32{-3, 4}, arr(gguf.TypeInt32, []int32{-3, 4})},
	{"a.f32", []float32{0.5, -0.25}, arr(gguf.TypeFloat32, []float32{0.5, -0.25})},
	{"a.bool", []bool{true, false}, arr(gguf.TypeBool, []bool{true, false})},
	{"a.str", []string{"", "a", "<0x0A>"}, arr(gguf.TypeString, []string{"", "a", "<0x0A>"})},
	{"a.u64", []uint64{1 << 40}, arr(gguf.TypeUint64, []uint64{1 << 40})},
	{"a.i64", []int64{-1 << 40}, arr(gguf.TypeInt64, []int64{-1 << 40})},
	{"a.f64", []float64{}, arr(gguf.TypeFloat64, []float64{})},
	{"aa.str", [][]string{{"a", "b"}, {}}, arr(gguf.TypeArray, []gguf.Value{arr(gguf.TypeString, []string{"a", "b"}), arr(gguf.TypeString, []string{})})},
	{"aaa.i32", [][][]int32{{{1}, {2, 3}}}, arr(gguf.TypeArray, []gguf.Value{arr(gguf.TypeArray, []gguf.Value{arr(gguf.TypeInt32, []int32{1}), arr(gguf.TypeInt32, []int32{2, 3})})})},
}

func arr(elem gguf.ValueType, v any) gguf.Value {
	return gguf.Value{Type: gguf.TypeArray, Elem: elem, V: v}
}

// sample builds a file with every value type and tensors of several types.
func sample(t *testing.T, align uint32) (*gguf.Writer, map[string][]byte) {
	t.Helper()
	w := gguf.NewWriter()
	require.NoError(t, w.AddKV("general.architecture", "llama"))
	if align != 0 {
		require.NoError(t, w.SetAlignment(align))
	}
	for _, e := range everyType {
		require.NoError(t, w.AddKV(e.key, e.v), e.key)
	}
	data := map[string][]byte{}
	add := func(name string, ty quant.Type, dims []uint64) {
		n := 1
		for _, d := range dims {
			n *= int(d)
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(math.Sin(float64(i)))
		}
		b, err := quant.Quantize(ty, x)
		require.NoError(t, err)
		require.NoError(t, w.AddTensor(name, ty, dims, b))
		data[name] = b
	}
	add("f32", quant.F32, []uint64{3})
	add("q8", quant.Q8_0, []uint64{64, 3})
	add("q4k", quant.Q4_K, []uint64{256, 1, 2})
	add("f16", quant.F16, []uint64{5, 1, 1, 2})
	return w, data
}

func encode(t *testing.T, w *gguf.Writer) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

func TestWriteParseRoundTrip(t *testing.T) {
	for _, align := range []uint32{0, 64, 1} {
		w, data := sample(t, align)
		raw := encode(t, w)
		for _, version := range []uint32{3, 2} {
			binary.LittleEndian.PutUint32(raw[4:], version) // v2 and v3 share the layout
			f, err := gguf.Parse(raw)
			require.NoError(t, err)
			assert.Equal(t, version, f.Version)
			wantAlign := uint64(align)
			if align == 0 {
				wantAlign = 32
			}
			assert.Equal(t, wantAlign, f.Alignment)
			assert.Zero(t, f.DataOffset%int64(wantAlign))
			keys := []string{}
			for _, kv := range f.KVs {
				keys = append(keys, kv.Key)
			}
			want := []string{"general.architecture"}
			if align != 0 {
				want = append(want, "general.alignment")
			}
			for _, e := range everyType {
				want = append(want, e.key)
				got, ok := f.Lookup(e.key)
				require.True(t, ok, e.key)
				assert.Equal(t, e.want, got, e.key)
			}
			assert.Equal(t, want, keys, "file order")
			require.Len(t, f.Tensors, 4)
			for _, tn := range f.Tensors {
				assert.Equal(t, data[tn.Name], tn.Data, tn.Name)
				assert.Zero(t, tn.Offset%wantAlign, tn.Name)
			}
			q4k, ok := f.Tensor("q4k")
			require.True(t, ok)
			assert.Equal(t, []uint64{256, 1, 2}, q4k.Dims)
			assert.Equal(t, int64(512), q4k.Elements())
			x, err := q4k.Dequantize()
			require.NoError(t, err)
			assert.InDelta(t, math.Sin(300), x[300], 0.1)
			_, ok = f.Tensor("nope")
			assert.False(t, ok)
		}
	}
}

func TestOpenMapsWithoutCopying(t *testing.T) {
	w, data := sample(t, 0)
	path := filepath.Join(t.TempDir(), "m.gguf")
	require.NoError(t, w.WriteFile(path))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")
	f, err := gguf.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	q8, _ := f.Tensor("q8")
	assert.Equal(t, data["q8"], q8.Data)
	// the data slices are views into one mapping, laid out as in the file
	f32, _ := f.Tensor("f32")
	gap := uintptr(unsafe.Pointer(&q8.Data[0])) - uintptr(unsafe.Pointer(&f32.Data[0]))
	assert.Equal(t, uintptr(q8.Offset-f32.Offset), gap)
	assert.Equal(t, raw[f.DataOffset+int64(q8.Offset):][:len(q8.Data)], q8.Data)
	arch, err := f.Architecture()
	require.NoError(t, err)
	assert.Equal(t, "llama", arch)
}

func TestGetters(t *testing.T) {
	w, _ := sample(t, 0)
	f, err := gguf.Parse(encode(t, w))
	require.NoError(t, err)

	u, err := f.Uint("t.u16")
	require.NoError(t, err)
	assert.Equal(t, uint64(60000), u)
	u, err = f.Uint("t.u64")
	require.NoError(t, err)
	assert.Equal(t, uint64(math.MaxUint64), u)
	_, err = f.Uint("t.i8")
	assert.ErrorContains(t, err, "metadata t.i8 is -100, want a non-negative integer")
	_, err = f.Uint("t.f32")
	assert.ErrorContains(t, err, "metadata t.f32 is float32, want an unsigned integer")

	x, err := f.Float("t.f32")
	require.NoError(t, err)
	assert.Equal(t, float64(float32(1e-5)), x)
	x, err = f.Float("t.i32")
	require.NoError(t, err)
	assert.Equal(t, -2e9, x)

	b, err := f.Bool("t.bool")
	require.NoError(t, err)
	assert.True(t, b)
	s, err := f.String("t.str")
	require.NoError(t, err)
	assert.Equal(t, "héllo\x00world", s)
	ss, err := f.Strings("a.str")
	require.NoError(t, err)
	assert.Equal(t, []string{"", "a", "<0x0A>"}, ss)
	fs, err := f.Float32s("a.f32")
	require.NoError(t, err)
	assert.Equal(t, []float32{0.5, -0.25}, fs)
	is, err := f.Int32s("a.i32")
	require.NoError(t, err)
	assert.Equal(t, []int32{-3, 4}, is)
	is, err = f.Int32s("a.u16")
	require.NoError(t, err)
	assert.Equal(t, []int32{7}, is)
	_, err = f.Int32s("a.u64")
	assert.ErrorContains(t, err, "metadata a.u64 (array of uint64) has elements outside int32")
	_, err = f.Int32s("a.f32")
	assert.ErrorContains(t, err, "metadata a.f32 is array of float32, want array of int32")

	_, err = f.String("llama.context_length")
	assert.True(t, errors.Is(err, gguf.ErrMissingKey))
	assert.ErrorContains(t, err, `"llama.context_length"`)
	_, err = f.Strings("t.str")
	assert.True(t, errors.Is(err, gguf.ErrInvalid))
	assert.ErrorContains(t, err, "metadata t.str is string, want array of string")
	_, err = f.String("aa.str")
	assert.ErrorContains(t, err, "metadata aa.str is array of array, want string")
	_, err = f.Bool("t.u8")
	assert.ErrorContains(t, err, "is uint8, want bool")
}

func TestWriterRefusals(t *testing.T) {
	w := gguf.NewWriter()
	require.NoError(t, w.AddKV("k", "v"))
	assert.ErrorContains(t, w.AddKV("k", "again"), `duplicate metadata key "k"`)
	assert.ErrorContains(t, w.AddKV("i", 3), "cannot store a Go int")
	assert.ErrorContains(t, w.AddKV("m", map[string]int{}), "cannot store")
	assert.ErrorContains(t, w.AddKV(gguf.KeyAlignment, uint64(32)), "must be a uint32")
	assert.ErrorContains(t, w.SetAlignment(48), "not a power of two")
	assert.ErrorContains(t, w.AddTensor("x", quant.F32, []uint64{2}, make([]byte, 4)), "4 bytes of data, F32 [2] needs 8")
	assert.ErrorContains(t, w.AddTensor("x", quant.Q4_K, []uint64{128}, make([]byte, 72)), "ne0 128 is not a multiple of Q4_K's block size 256")
	assert.ErrorContains(t, w.AddTensor("x", quant.F32, nil, nil), "0 dimensions")
	assert.ErrorContains(t, w.AddTensor("x", quant.F32, []uint64{1, 1, 1, 1, 1}, make([]byte, 4)), "5 dimensions")
	assert.ErrorContains(t, w.AddTensor("x", quant.F32, []uint64{0}, nil), "zero or overflows")
	assert.True(t, errors.Is(w.AddTensor("x", quant.Q2_K, []uint64{256}, make([]byte, 84)), gguf.ErrUnsupportedType))
	require.NoError(t, w.AddTensor("x", quant.F32, []uint64{1}, make([]byte, 4)))
	assert.ErrorContains(t, w.AddTensor("x", quant.F32, []uint64{1}, make([]byte, 4)), `duplicate tensor name "x"`)
	// a failed WriteFile leaves nothing behind
	dir := t.TempDir()
	require.Error(t, w.WriteFile(filepath.Join(dir, "missing", "m.gguf")))
	entries, _ := os.ReadDir(dir)
	assert.Empty(t, entries)
}
