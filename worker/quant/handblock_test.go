package quant_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// Hand-built blocks: the test packs known levels and scales into ggml's
// layouts with its own bit twiddling (written from ggml-common.h's struct
// comments, one element at a time), computes each value in float64 and
// demands Dequantize's float32 equal it rounded once. Every product here is
// exact in float32 (fp16 scale × small ints), so single rounding is exact.

func h16(f float64) uint16 { return safetensors.F32ToF16(float32(f)) }
func f16(h uint16) float64 { return float64(safetensors.F16ToF32(h)) }

// scale values that stress the fp16 path: negative, subnormal, largest, zero.
var halfScales = []uint16{h16(0.0123), h16(-0.5), 0x0001 /* 2^-24 */, 0x03ff, 0x7bff /* 65504 */, 0xfbff, 0, 0x8000}

type handBlock struct {
	name  string
	t     quant.Type
	build func(r *rand.Rand, d, m uint16) ([]byte, []float64)
}

func put16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }

// setBit sets bit i of the little-endian bit string b.
func setBit(b []byte, i int) { b[i/8] |= 1 << (i % 8) }

var handBlocks = []handBlock{
	{"Q4_0", quant.Q4_0, func(r *rand.Rand, d, _ uint16) ([]byte, []float64) {
		b, want := make([]byte, 18), make([]float64, 32)
		put16(b, d)
		for i := range 32 {
			q := r.IntN(16)
			if i < 2 {
				q = 15 * i // both ends of the range
			}
			b[2+i%16] |= byte(q) << (4 * (i / 16)) // element i<16 low nibble, i>=16 high
			want[i] = float64(q-8) * f16(d)
		}
		return b, want
	}},
	{"Q4_1", quant.Q4_1, func(r *rand.Rand, d, m uint16) ([]byte, []float64) {
		b, want := make([]byte, 20), make([]float64, 32)
		put16(b, d)
		put16(b[2:], m)
		for i := range 32 {
			q := r.IntN(16)
			b[4+i%16] |= byte(q) << (4 * (i / 16))
			want[i] = float64(q)*f16(d) + f16(m)
		}
		return b, want
	}},
	{"Q5_0", quant.Q5_0, func(r *rand.Rand, d, _ uint16) ([]byte, []float64) {
		b, want := make([]byte, 22), make([]float64, 32)
		put16(b, d)
		for i := range 32 {
			q := r.IntN(32)
			b[6+i%16] |= byte(q&15) << (4 * (i / 16))
			if q >= 16 {
				setBit(b[2:6], i) // qh bit i is element i's fifth bit
			}
			want[i] = float64(q-16) * f16(d)
		}
		return b, want
	}},
	{"Q5_1", quant.Q5_1, func(r *rand.Rand, d, m uint16) ([]byte, []float64) {
		b, want := make([]byte, 24), make([]float64, 32)
		put16(b, d)
		put16(b[2:], m)
		for i := range 32 {
			q := r.IntN(32)
			b[8+i%16] |= byte(q&15) << (4 * (i / 16))
			if q >= 16 {
				setBit(b[4:8], i)
			}
			want[i] = float64(q)*f16(d) + f16(m)
		}
		return b, want
	}},
	{"Q8_0", quant.Q8_0, func(r *rand.Rand, d, _ uint16) ([]byte, []float64) {
		b, want := make([]byte, 34), make([]float64, 32)
		put16(b, d)
		for i := range 32 {
			q := r.IntN(256) - 128
			b[2+i] = byte(int8(q))
			want[i] = float64(q) * f16(d)
		}
		return b, want
	}},
	{"Q4_K", quant.Q4_K, func(r *rand.Rand, d, m uint16) ([]byte, []float64) { return kBlock(r, d, m, 4) }},
	{"Q5_K", quant.Q5_K, func(r *rand.Rand, d, m uint16) ([]byte, []float64) { return kBlock(r, d, m, 5) }},
	{"Q6_K", quant.Q6_K, func(r *rand.Rand, d, _ uint16) ([]byte, []float64) {
		b, want := make([]byte, 210), make([]float64, 256)
		put16(b[208:], d)
		var sc [16]int
		for s := range sc {
			sc[s] = r.IntN(256) - 128
			if s < 2 {
				sc[s] = []int{-128, 127}[s]
			}
			b[192+s] = byte(int8(sc[s]))
		}
		for i := range 256 {
			q := r.IntN(64)
			// 128-element halves; in each, element 32*k+l (k=0..3) keeps its low
			// nibble in ql[64h + l + 32*(k%2)] (high nibble when k>=2) and its
			// top two bits in qh[32h + l] at bit 2k.
			h, k, l := i/128, i%128/32, i%32
			b[64*h+l+32*(k%2)] |= byte(q&15) << (4 * (k / 2))
			b[128+32*h+l] |= byte(q>>4) << (2 * k)
			want[i] = f16(d) * float64(sc[i/16]) * float64(q-32)
		}
		return b, want
	}},
}

// kBlock builds a Q4_K (bits=4) or Q5_K (bits=5) block: 8 sub-blocks of 32
// with 6-bit scales and mins, x = d*sc*q - dmin*m.
func kBlock(r *rand.Rand, d, dmin uint16, bits int) ([]byte, []float64) {
	size := map[int]int{4: 144, 5: 176}[bits]
	b, want := make([]byte, size), make([]float64, 256)
	put16(b, d)
	put16(b[2:], dmin)
	scales := b[4:16]
	var sc, mn [8]int
	for j := range 8 {
		sc[j], mn[j] = r.IntN(64), r.IntN(64)
		if j == 7 {
			sc[j], mn[j] = 63, 63
		}
		// 6-bit values: sub-blocks 0-3 in the low 6 bits of bytes j (scale) and
		// j+4 (min); 4-7 split into a nibble in byte j+4 and two bits on top of
		// bytes j-4 (scale) and j (min).
		if j < 4 {
			scales[j] |= byte(sc[j])
			scales[j+4] |= byte(mn[j])
		} else {
			scales[j+4] |= byte(sc[j]&15) | byte(mn[j]&15)<<4
			scales[j-4] |= byte(sc[j]>>4) << 6
			scales[j] |= byte(mn[j]>>4) << 6
		}
	}
	qs := b[size-128:]
	for i := range 256 {
		q := r.IntN(1 << bits)
		// each 64 elements share 32 bytes: first 32 in low nibbles, next 32 high
		qs[i/64*32+i%32] |= byte(q&15) << (4 * (i % 64 / 32))
		if q >= 16 {
			setBit(b[16:48], (i%32)*8+i/32) // Q5_K qh[l] bit (i/32) for element l of each group
		}
		want[i] = f16(d)*float64(sc[i/32])*float64(q) - f16(dmin)*float64(mn[i/32])
	}
	return b, want
}

func TestDequantizeHandBuiltBlocks(t *testing.T) {
	for _, hb := range handBlocks {
		t.Run(hb.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(hb.t)))
			for _, d := range halfScales {
				for _, m := range halfScales {
					blk, want := hb.build(r, d, m)
					got := make([]float32, len(want))
					require.NoError(t, quant.Dequantize(hb.t, blk, got))
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(float32(want[i])) && !(got[i] == 0 && want[i] == 0) {
							t.Fatalf("d=%#04x m=%#04x element %d: got %g, hand computation %g", d, m, i, got[i], want[i])
						}
					}
				}
			}
		})
	}
}

func TestZeroBlocks(t *testing.T) {
	for _, ty := range quant.Supported() {
		n := ty.BlockSize() * 2
		zero := make([]float32, max(n, 256))
		zero = zero[:n-n%ty.BlockSize()]
		q, err := quant.Quantize(ty, zero)
		require.NoError(t, err)
		out := make([]float32, len(zero))
		require.NoError(t, quant.Dequantize(ty, q, out), ty)
		require.Equal(t, zero, out, ty)
		// an all-zero byte block decodes to zeros in every type
		require.NoError(t, quant.Dequantize(ty, make([]byte, len(q)), out))
		require.Equal(t, zero, out, ty)
	}
	// ggml's Q4_0 of a zero block: d = 0/-8 = -0 (fp16 0x8000) and every level 8 (0x88)
	q, err := quant.Quantize(quant.Q4_0, make([]float32, 32))
	require.NoError(t, err)
	require.Equal(t, append([]byte{0x00, 0x80}, bytesOf(0x88, 16)...), q)
}

func bytesOf(v byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = v
	}
	return b
}
