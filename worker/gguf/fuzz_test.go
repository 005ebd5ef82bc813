package gguf_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
)

func FuzzParse(f *testing.F) {
	w := gguf.NewWriter()
	for _, e := range everyType {
		if err := w.AddKV(e.key, e.v); err != nil {
			f.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		t    quant.Type
		dims []uint64
	}{{"a", quant.F32, []uint64{3}}, {"b", quant.Q4_0, []uint64{32, 2}}, {"c", quant.Q6_K, []uint64{256}}} {
		n, _ := tc.t.RowBytes(int(tc.dims[0]))
		for _, d := range tc.dims[1:] {
			n *= int(d)
		}
		if err := w.AddTensor(tc.name, tc.t, tc.dims, bytes.Repeat([]byte{0x3c}, n)); err != nil {
			f.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(raw{kvs: [][]byte{kv(gguf.KeyAlignment, gguf.TypeUint32, le32(64))}, tensors: [][]byte{tinfo("a", quant.F32, 0, 16), tinfo("b", quant.F32, 64, 4)}, data: make([]byte, 96), align: 64}.bytes())
	f.Add(raw{kvs: [][]byte{kv("k", gguf.TypeArray, deepArray(3))}}.bytes())
	f.Add(raw{version: 2, tensors: [][]byte{tinfo("q", quant.Q8_0, 0, 32, 1, 1, 1)}, data: make([]byte, 34)}.bytes())
	f.Add([]byte("GGUF"))
	f.Fuzz(func(t *testing.T, file []byte) {
		g, err := gguf.Parse(file)
		if err != nil {
			if !errors.Is(err, gguf.ErrInvalid) && !errors.Is(err, gguf.ErrUnsupportedType) {
				t.Fatalf("error not typed: %v", err)
			}
			return
		}
		// an accepted file describes tensors that lie in it, aligned
		for _, tn := range g.Tensors {
			n, err := tn.Type.RowBytes(int(tn.Elements()))
			if err != nil || len(tn.Data) != n || tn.Offset%g.Alignment != 0 ||
				g.DataOffset+int64(tn.Offset)+int64(n) > int64(len(file)) {
				t.Fatalf("accepted bad tensor %s %s %v at %d (%d bytes)", tn.Name, tn.Type, tn.Dims, tn.Offset, len(tn.Data))
			}
		}
		// and the Writer re-creates it: rewriting is a fixed point
		once := rewrite(t, g)
		g2, err := gguf.Parse(once)
		if err != nil {
			t.Fatalf("rewritten file does not parse: %v", err)
		}
		if twice := rewrite(t, g2); !bytes.Equal(once, twice) {
			t.Fatalf("rewriting is not stable")
		}
	})
}

func rewrite(t *testing.T, g *gguf.File) []byte {
	w := gguf.NewWriter()
	for _, kv := range g.KVs {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatalf("writer refuses key %s: %v", kv.Key, err)
		}
	}
	for _, tn := range g.Tensors {
		if err := w.AddTensor(tn.Name, tn.Type, tn.Dims, tn.Data); err != nil {
			t.Fatalf("writer refuses tensor: %v", err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
