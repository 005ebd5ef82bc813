package safetensors_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/safetensors"
)

func TestBF16(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3f80},
		{-2, 0xc000},
		{3.140625, 0x4049}, // exact
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81}, // above tie
		{float32(math.Inf(1)), 0x7f80},
		{math.MaxFloat32, 0x7f80}, // rounds to +Inf
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, safetensors.F32ToBF16(tt.in), "F32ToBF16(%v)", tt.in)
	}
	assert.True(t, math.IsNaN(float64(safetensors.BF16ToF32(safetensors.F32ToBF16(float32(math.NaN()))))))
	for b := 0; b < 1<<16; b++ { // every non-NaN pattern round-trips exactly
		f := safetensors.BF16ToF32(uint16(b))
		if f != f {
			continue
		}
		require.Equal(t, uint16(b), safetensors.F32ToBF16(f), "pattern %#04x", b)
	}
}

func TestF16(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},
		{65520, 0x7c00}, // halfway to the next step rounds to Inf
		{1e6, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{6.103515625e-05, 0x0400},        // smallest normal
		{5.960464477539063e-08, 0x0001},  // smallest subnormal
		{2.9802322387695312e-08, 0x0000}, // half of it: tie to even → 0
		{4.470348358154297e-08, 0x0001},  // 0.75 of it → 1
		{1e-10, 0x0000},
		{1.0009765625, 0x3c01},
		{1.00048828125, 0x3c00},          // tie between 0x3c00 and 0x3c01 → even
		{1.00146484375, 0x3c02},          // tie between 0x3c01 and 0x3c02 → even
		{6.1005353927612305e-05, 0x0400}, // largest subnormal + half a step (tie, odd) rounds up into normals
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, safetensors.F32ToF16(tt.in), "F32ToF16(%v)", tt.in)
	}
	assert.True(t, math.IsNaN(float64(safetensors.F16ToF32(safetensors.F32ToF16(float32(math.NaN()))))))
	for h := 0; h < 1<<16; h++ { // every non-NaN pattern round-trips exactly
		f := safetensors.F16ToF32(uint16(h))
		if f != f {
			continue
		}
		require.Equal(t, uint16(h), safetensors.F32ToF16(f), "pattern %#04x", h)
	}
	assert.Equal(t, float32(65504), safetensors.F16ToF32(0x7bff))
	assert.Equal(t, float32(-5.960464477539063e-08), safetensors.F16ToF32(0x8001))
}

func TestToFromF32(t *testing.T) {
	vals := []float32{0, 1, -1.5, 0.25, 1000, -0.0078125}
	for _, dt := range []safetensors.DType{safetensors.F32, safetensors.F16, safetensors.BF16} {
		t.Run(string(dt), func(t *testing.T) {
			tn, err := safetensors.FromF32("x", dt, []int{2, 3}, vals)
			require.NoError(t, err)
			got, err := safetensors.ToF32(tn)
			require.NoError(t, err)
			assert.Equal(t, vals, got) // all values are exact in every dtype
		})
	}
	_, err := safetensors.FromF32("x", safetensors.F32, []int{4}, vals)
	assert.ErrorIs(t, err, safetensors.ErrInvalid)
	_, err = safetensors.FromF32("x", "I64", []int{6}, vals)
	assert.ErrorIs(t, err, safetensors.ErrUnsupportedDType)
	_, err = safetensors.ToF32(safetensors.Tensor{Name: "x", DType: safetensors.F32, Shape: []int{2}, Data: make([]byte, 7)})
	assert.ErrorIs(t, err, safetensors.ErrInvalid)
}
