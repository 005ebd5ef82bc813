package kernels_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine/kernels"
	"github.com/rbee-go/rbee/worker/quant"
)

var qtypes = []kernels.DType{kernels.Q8_0, kernels.Q4_0, kernels.Q5_0, kernels.Q4_K, kernels.Q5_K, kernels.Q6_K}

// f16 scales a block may carry: ordinary ones of either sign, and the
// extremes (zero, the largest half, the smallest subnormal, tiny normals).
var extremeF16 = []uint16{0x0000, 0x7bff, 0xfbff, 0x0001, 0x8001, 0x0400, 0x3c00}

func randF16(r *rand.Rand) uint16 {
	if r.IntN(4) == 0 {
		return extremeF16[r.IntN(len(extremeF16))]
	}
	return kernels.F32ToF16(float32(r.NormFloat64() * math.Exp2(float64(r.IntN(16)-12))))
}

// randBlocks fills rows×cols of dtype with random bits (every bit pattern
// of the payload is a valid block), random f16 scales including extremes,
// and some blocks at the payload's extremes (all bits set / clear).
func randBlocks(r *rand.Rand, d kernels.DType, rows, cols int) kernels.Matrix {
	bs, bb := d.Block()
	data := make([]byte, rows*cols/bs*bb)
	for b := range len(data) / bb {
		blk := data[b*bb : (b+1)*bb]
		switch r.IntN(8) {
		case 0:
			for i := range blk {
				blk[i] = 0xff
			}
		case 1: // payload zero
		default:
			for i := range blk {
				blk[i] = byte(r.Uint32())
			}
		}
		var halves []int // byte offsets of the f16 scales
		switch d {
		case kernels.Q8_0, kernels.Q4_0, kernels.Q5_0:
			halves = []int{0}
		case kernels.Q4_K, kernels.Q5_K:
			halves = []int{0, 2}
		case kernels.Q6_K:
			halves = []int{208}
		}
		for _, o := range halves {
			binary.LittleEndian.PutUint16(blk[o:], randF16(r))
		}
	}
	m, err := kernels.NewMatrix(d, rows, cols, data)
	if err != nil {
		panic(err)
	}
	return m
}

// refWeight is element i of a block by the ggml-common.h layout, in
// float64, with its magnitude: |scale·q| + |min term| (the two parts a
// kernel sums separately).
func refWeight(d kernels.DType, blk []byte, i int) (val, mag float64) {
	h := func(o int) float64 { return float64(kernels.F16ToF32(binary.LittleEndian.Uint16(blk[o:]))) }
	switch d {
	case kernels.Q8_0:
		v := h(0) * float64(int8(blk[2+i]))
		return v, math.Abs(v)
	case kernels.Q4_0:
		q := blk[2+i%16] >> (4 * (i / 16)) & 15
		v := h(0) * float64(int(q)-8)
		return v, math.Abs(v)
	case kernels.Q5_0:
		q := int(blk[6+i%16]>>(4*(i/16))&15) | int(binary.LittleEndian.Uint32(blk[2:])>>i&1)<<4
		v := h(0) * float64(q-16)
		return v, math.Abs(v)
	case kernels.Q6_K:
		half, rr := i/128, i%128
		k, l := rr/32, rr%32
		lo := blk[64*half+l+32*(k&1)] >> (4 * (k >> 1)) & 15
		hi := blk[128+32*half+l] >> (2 * k) & 3
		v := h(208) * float64(int8(blk[192+8*half+rr/16])) * float64(int(lo|hi<<4)-32)
		return v, math.Abs(v)
	}
	j, l := i/32, i%32
	sc, qs := blk[4:16], blk[16:]
	if d == kernels.Q5_K {
		qs = blk[48:]
	}
	var s, m byte
	if j < 4 {
		s, m = sc[j]&63, sc[j+4]&63
	} else {
		s, m = sc[j+4]&15|sc[j-4]>>6<<4, sc[j+4]>>4|sc[j]>>6<<4
	}
	q := int(qs[32*(j/2)+l] >> (4 * (j % 2)) & 15)
	if d == kernels.Q5_K && blk[16+l]>>j&1 == 1 {
		q += 16
	}
	a, b := h(0)*float64(s)*float64(q), h(2)*float64(m)
	return a - b, math.Abs(a) + math.Abs(b)
}

// refActs dequantizes quantized activations (Q8_0 or Q8_K blocks) to float64.
func refActs(k bool, xq []byte, vals int) []float64 {
	out := make([]float64, vals)
	for i := range out {
		if k {
			blk := xq[i/256*292:]
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(blk))) * float64(int8(blk[4+i%256]))
		} else {
			blk := xq[i/32*34:]
			out[i] = float64(kernels.F16ToF32(binary.LittleEndian.Uint16(blk))) * float64(int8(blk[2+i%32]))
		}
	}
	return out
}

// randActs draws n×cols activations whose blocks differ in scale by up to
// 1e±3, with an all-zero block now and then.
func randActs(r *rand.Rand, n, cols int) []float32 {
	x := make([]float32, n*cols)
	for b := 0; b < len(x); b += 32 {
		s := math.Pow(10, float64(r.IntN(7)-3))
		if r.IntN(10) == 0 {
			s = 0
		}
		for i := b; i < b+32; i++ {
			x[i] = float32(r.NormFloat64() * s)
		}
	}
	return x
}

// Each quantized kernel (pure Go, each C mode, the threaded pool) against
// float64 references. Error bounds, per type:
//   - exact: against dequant(w)·dequant(xq) in float64 the kernel only
//     rounds in float32 (block scale products, int→float, the sum over nb
//     blocks), so |err| ≤ (nb+8)·2⁻²³·Σ|w|·|xq| (|w| counting a K-quant's
//     scale and min parts separately);
//   - against dequant(w)·x, the reference, the activation rounding
//     adds Σ|w|·e with e ≤ c·amax/127 per block: c = 0.57 for Q8_0
//     activations (half a step plus the f16 rounding of d: 127·2⁻¹¹ steps)
//     and 0.51 for Q8_K (f32 d), plus 2⁻²⁴ for a subnormal f16 d.
func TestQuantMatMul(t *testing.T) {
	pool := kernels.NewPool(3)
	t.Cleanup(pool.Close)
	t.Logf("quantized modes %v", kernels.QModes())
	r := rand.New(rand.NewPCG(5, 6))
	// The prefill tiles take 2 or 4 rows × 4 or 8 tokens: row and token
	// counts around and between those, n = 1..9 and past 64. The one-token
	// Q8_0/Q4_0/Q5_0 rows go 16 blocks at a time: 8, 16, 24, 32 and 40 blocks;
	// AMX (Q8_0) takes groups of 16 tokens, 16 rows at a time.
	sizes := []struct{ rows, cols, n int }{
		{1, 256, 1}, {3, 512, 2}, {17, 256, 5}, {64, 768, 1}, {5, 2048, 3}, {9, 1024, 13}, {130, 256, 7},
		{6, 256, 64}, {13, 512, 67}, {3, 1024, 1}, {4, 1280, 1},
	}
	for n := 1; n <= 9; n++ {
		sizes = append(sizes, struct{ rows, cols, n int }{7, 512, n})
	}
	for _, d := range qtypes {
		for _, s := range sizes {
			t.Run(fmt.Sprintf("%v/%dx%d/n%d", d, s.rows, s.cols, s.n), func(t *testing.T) {
				checkQuant(t, pool, r, d, s.rows, s.cols, s.n)
			})
		}
	}
	for _, d := range []kernels.DType{kernels.Q8_0, kernels.Q4_0, kernels.Q5_0} { // odd block counts
		t.Run(fmt.Sprintf("%v/7x96/n3", d), func(t *testing.T) { checkQuant(t, pool, r, d, 7, 96, 3) })
		t.Run(fmt.Sprintf("%v/21x96/n19", d), func(t *testing.T) { checkQuant(t, pool, r, d, 21, 96, 19) })
		t.Run(fmt.Sprintf("%v/5x96/n1", d), func(t *testing.T) { checkQuant(t, pool, r, d, 5, 96, 1) })
	}
}

func checkQuant(t *testing.T, pool *kernels.Pool, r *rand.Rand, d kernels.DType, rows, cols, n int) {
	w := randBlocks(r, d, rows, cols)
	x := randActs(r, n, cols)
	k := kernels.KActs(d)
	xb := kernels.ActRowBytes(d, cols)
	xq := make([]byte, n*xb)
	kernels.QuantizeActs(k, x, n, cols, xq)
	xqc := make([]byte, n*xb)
	kernels.QuantizeActsC(k, x, n, cols, xqc)
	require.Equal(t, xq, xqc, "Go and C activation quantizers differ")
	xd := refActs(k, xq, n*cols)

	bs, bb := d.Block()
	nb := cols / bs
	blkVals, c := 32, 0.57
	if k {
		blkVals, c = 256, 0.51
	}
	wantQ, tolQ := make([]float64, n*rows), make([]float64, n*rows)
	wantX, tolX := make([]float64, n*rows), make([]float64, n*rows)
	ref := make([]float32, cols)
	qt, _ := d.QuantType()
	for row := range rows {
		require.NoError(t, quant.Dequantize(qt, w.Data[row*nb*bb:(row+1)*nb*bb], ref))
		for i := range cols {
			_, mag := refWeight(d, w.Data[(row*nb+i/bs)*bb:], i%bs)
			wv := float64(ref[i])
			for tk := range n {
				o := tk*rows + row
				xi := tk*cols + i
				var amax float64
				for _, v := range x[xi/blkVals*blkVals : xi/blkVals*blkVals+blkVals] {
					amax = math.Max(amax, math.Abs(float64(v)))
				}
				wantQ[o] += wv * xd[xi]
				tolQ[o] += mag * math.Abs(xd[xi])
				wantX[o] += wv * float64(x[xi])
				tolX[o] += mag * (c*amax/127 + 0x1p-24)
			}
		}
	}
	for o := range tolQ {
		tolQ[o] = float64(nb+8)*0x1p-23*tolQ[o] + 1e-30
		tolX[o] += tolQ[o]
	}
	check := func(what string, got []float32) {
		t.Helper()
		for o := range got {
			require.InDelta(t, wantQ[o], float64(got[o]), tolQ[o], "%s: exact reference, element %d", what, o)
			require.InDelta(t, wantX[o], float64(got[o]), tolX[o], "%s: float reference, element %d", what, o)
		}
	}
	for _, mode := range append([]int{-1}, kernels.QModes()...) {
		got := make([]float32, n*rows)
		kernels.QMatMulMode(mode, got, xq, n, w)
		check(fmt.Sprintf("mode %d", mode), got)
	}
	got := make([]float32, n*rows)
	pool.MatMul(got, x, n, w)
	check("pool", got)
}

// Matrix.Row is the reference dequantization (quant.Dequantize), and the
// test's own reading of the block layouts (refWeight, used for the error
// magnitudes above) agrees with it.
func TestQuantRow(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, d := range qtypes {
		bs, bb := d.Block()
		w := randBlocks(r, d, 3, 512)
		row := make([]float32, 512)
		qt, _ := d.QuantType()
		for i := range 3 {
			w.Row(i, row)
			ref := make([]float32, 512)
			require.NoError(t, quant.Dequantize(qt, w.Data[i*512/bs*bb:(i+1)*512/bs*bb], ref))
			require.Equal(t, ref, row, "%v row %d", d, i)
			for c, v := range row {
				want, mag := refWeight(d, w.Data[(i*512/bs+c/bs)*bb:], c%bs)
				require.InDelta(t, want, float64(v), 0x1p-23*mag+1e-30, "%v row %d col %d", d, i, c)
			}
		}
		sub := w.RowSlice(1, 3)
		sub.Row(0, row)
		want := make([]float32, 512)
		w.Row(1, want)
		require.Equal(t, want, row, "%v RowSlice", d)
	}
	_, err := kernels.NewMatrix(kernels.Q4_K, 2, 100, make([]byte, 288))
	require.ErrorContains(t, err, "100 columns")
}

// Mixed float and quantized products (both activation formats) in one
// dispatch equal separate products.
func TestQuantMatMuls(t *testing.T) {
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	r := rand.New(rand.NewPCG(1, 9))
	const cols = 512
	for _, n := range []int{1, 4} {
		x := randActs(r, n, cols)
		var ps []kernels.Product
		var wants [][]float32
		for i, d := range []kernels.DType{kernels.Q4_K, kernels.BF16, kernels.Q8_0, kernels.Q6_K, kernels.Q4_0} {
			rows := []int{300, 5, 64, 33, 7}[i]
			var m kernels.Matrix
			if d == kernels.BF16 {
				m, _ = randMatrix(r, d, rows, cols)
			} else {
				m = randBlocks(r, d, rows, cols)
			}
			want := make([]float32, n*rows)
			pool.MatMul(want, x, n, m)
			ps = append(ps, kernels.Product{Out: make([]float32, n*rows), W: m})
			wants = append(wants, want)
		}
		pool.MatMuls(x, n, ps...)
		for i, pr := range ps {
			require.Equal(t, wants[i], pr.Out, "n%d product %d (%v)", n, i, pr.W.DType)
		}
	}
}

func TestF32ToF16(t *testing.T) {
	for _, c := range []struct {
		f float32
		h uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {0, 0}, {65504, 0x7bff}, {65520, 0x7c00}, {1e9, 0x7c00},
		{5.960464477539063e-08, 0x0001}, {2.9802322387695312e-08, 0x0000}, {4.5e-08, 0x0001},
		{1.0009765625, 0x3c01}, {1.00048828125, 0x3c00}, {1.00146484375, 0x3c02}, {0.333251953125, 0x3555},
	} {
		require.Equal(t, c.h, kernels.F32ToF16(c.f), "%g", c.f)
	}
	r := rand.New(rand.NewPCG(2, 2))
	for range 10000 { // round trip of every representable half drawn at random
		h := uint16(r.Uint32())
		if h&0x7c00 == 0x7c00 {
			continue
		}
		require.Equal(t, h, kernels.F32ToF16(kernels.F16ToF32(h)), "%#04x", h)
	}
}

func TestFromQuant(t *testing.T) {
	for _, d := range append([]kernels.DType{kernels.F32, kernels.F16, kernels.BF16}, qtypes...) {
		var qt quant.Type
		switch d {
		case kernels.F32:
			qt = quant.F32
		case kernels.F16:
			qt = quant.F16
		case kernels.BF16:
			qt = quant.BF16
		default:
			var ok bool
			qt, ok = d.QuantType()
			require.True(t, ok, "%v", d)
			require.Equal(t, d.String(), qt.String())
			bs, bb := d.Block()
			require.Equal(t, []int{qt.BlockSize(), qt.TypeSize()}, []int{bs, bb})
		}
		got, ok := kernels.FromQuant(qt)
		require.True(t, ok, "%v", qt)
		require.Equal(t, d, got)
	}
	for _, qt := range []quant.Type{quant.Q4_1, quant.Q5_1, quant.Q2_K} {
		_, ok := kernels.FromQuant(qt)
		require.False(t, ok, "%v is dequantized at load, not multiplied directly", qt)
	}
}
