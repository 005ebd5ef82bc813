package quant_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/quant"
)

// TestAgreesWithGGML compares Quantize and Dequantize with outputs of ggml
// itself recorded in testdata (see testdata/README.md): equal hashes mean
// equal bits.
func TestAgreesWithGGML(t *testing.T) {
	raw, err := os.ReadFile("testdata/ggml_input.f32")
	require.NoError(t, err)
	x := make([]float32, len(raw)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	var ref map[string]struct {
		Quantize   string `json:"quantize_row_ref_sha256"`
		Dequantize string `json:"dequantize_row_sha256"`
	}
	j, err := os.ReadFile("testdata/ggml_reference.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(j, &ref))
	checked := 0
	for _, ty := range quant.Supported() {
		want, ok := ref[ty.String()]
		if ty.BlockSize() == 1 {
			continue // F32/F16/BF16: plain conversions, tested in safetensors
		}
		require.True(t, ok, "no ggml reference for %s", ty)
		q, err := quant.Quantize(ty, x)
		require.NoError(t, err)
		require.Equal(t, want.Quantize, sha(q), "%s: Quantize differs from ggml's quantize_row_%s_ref", ty, ty)

		n, _ := ty.RowBytes(len(x))
		y := make([]float32, len(x))
		require.NoError(t, quant.Dequantize(ty, raw[:n], y))
		out := make([]byte, 4*len(y))
		for i, v := range y {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
		}
		require.Equal(t, want.Dequantize, sha(out), "%s: Dequantize differs from ggml's dequantize_row", ty)
		checked++
	}
	require.Equal(t, 8, checked)
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
