package safetensors

import (
	"encoding/binary"
	"errors"
	"testing"
)

func FuzzParseHeader(f *testing.F) {
	seed := func(h string, data int) []byte {
		out := make([]byte, 8, 8+len(h)+data)
		binary.LittleEndian.PutUint64(out, uint64(len(h)))
		out = append(out, h...)
		return append(out, make([]byte, data)...)
	}
	f.Add(seed(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8))
	f.Add(seed(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[],"data_offsets":[8,10]}}`, 10))
	f.Add(seed(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12))
	f.Add(seed(`{}`, 0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, file []byte) {
		h, err := parseHeader(file, int64(len(file)))
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupportedDType) {
				t.Fatalf("error not typed: %v", err)
			}
			return
		}
		// a header that parses must describe tensors that fit exactly
		dataLen := int64(len(file)) - h.DataOff
		var covered int64
		for _, e := range h.Entries {
			want, err := byteSize(e.DType, e.Shape)
			if err != nil || e.Begin < 0 || e.End > dataLen || e.End-e.Begin != want {
				t.Fatalf("accepted bad entry %+v (data %d bytes)", e, dataLen)
			}
			covered += want
		}
		if covered != dataLen {
			t.Fatalf("accepted %d covered bytes of %d", covered, dataLen)
		}
	})
}
