package quant_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/quant"
)

func TestTypeTraits(t *testing.T) {
	for _, tc := range []struct {
		t          quant.Type
		id         uint32
		name       string
		block, siz int
		supported  bool
	}{
		{quant.F32, 0, "F32", 1, 4, true},
		{quant.F16, 1, "F16", 1, 2, true},
		{quant.Q4_0, 2, "Q4_0", 32, 18, true},
		{quant.Q4_1, 3, "Q4_1", 32, 20, true},
		{quant.Q5_0, 6, "Q5_0", 32, 22, true},
		{quant.Q5_1, 7, "Q5_1", 32, 24, true},
		{quant.Q8_0, 8, "Q8_0", 32, 34, true},
		{quant.Q8_1, 9, "Q8_1", 32, 36, false},
		{quant.Q2_K, 10, "Q2_K", 256, 84, false},
		{quant.Q3_K, 11, "Q3_K", 256, 110, false},
		{quant.Q4_K, 12, "Q4_K", 256, 144, true},
		{quant.Q5_K, 13, "Q5_K", 256, 176, true},
		{quant.Q6_K, 14, "Q6_K", 256, 210, true},
		{quant.Q8_K, 15, "Q8_K", 256, 292, false},
		{quant.IQ4_NL, 20, "IQ4_NL", 32, 18, false},
		{quant.BF16, 30, "BF16", 1, 2, true},
		{quant.MXFP4, 39, "MXFP4", 32, 17, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.id, uint32(tc.t))
			assert.Equal(t, tc.name, tc.t.String())
			assert.Equal(t, tc.block, tc.t.BlockSize())
			assert.Equal(t, tc.siz, tc.t.TypeSize())
			assert.Equal(t, tc.supported, tc.t.Supported())
		})
	}
	assert.Equal(t, "type(4)", quant.Type(4).String(), "a retired id")
	assert.Equal(t, "type(1000)", quant.Type(1000).String())
	assert.False(t, quant.Type(1000).Supported())
	assert.Equal(t, []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0, quant.Q4_1,
		quant.Q5_0, quant.Q5_1, quant.Q4_K, quant.Q5_K, quant.Q6_K}, quant.Supported())
	for _, ty := range quant.Supported() {
		assert.True(t, ty.Supported(), ty)
	}
}

func TestRowBytes(t *testing.T) {
	for _, tc := range []struct {
		t    quant.Type
		n    int
		want int
		err  string
	}{
		{quant.F32, 7, 28, ""},
		{quant.BF16, 3, 6, ""},
		{quant.Q8_0, 64, 68, ""},
		{quant.Q4_K, 512, 288, ""},
		{quant.Q6_K, 0, 0, ""},
		{quant.Q4_0, 33, 0, "not a multiple of its block size 32"},
		{quant.Q5_K, 128, 0, "not a multiple of its block size 256"},
		{quant.Q8_0, -32, 0, "not a multiple"},
		{quant.Type(77), 32, 0, "unsupported tensor type type(77)"},
	} {
		got, err := tc.t.RowBytes(tc.n)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, "%s × %d", tc.t, tc.n)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%s × %d", tc.t, tc.n)
	}
}

func TestBadArguments(t *testing.T) {
	err := quant.Dequantize(quant.Q2_K, make([]byte, 84), make([]float32, 256))
	require.True(t, errors.Is(err, quant.ErrUnsupportedType))
	assert.ErrorContains(t, err, "Q2_K (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)")
	assert.ErrorContains(t, quant.Dequantize(quant.Q8_0, make([]byte, 33), make([]float32, 32)), "need 34 bytes, got 33")
	assert.ErrorContains(t, quant.Dequantize(quant.Q8_0, make([]byte, 34), make([]float32, 31)), "not a multiple")
	_, err = quant.Quantize(quant.Q4_K, make([]float32, 32))
	assert.ErrorContains(t, err, "32 elements of Q4_K: not a multiple of its block size 256")
	_, err = quant.Quantize(quant.IQ4_NL, make([]float32, 32))
	assert.True(t, errors.Is(err, quant.ErrUnsupportedType))
}
