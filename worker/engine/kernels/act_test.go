package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// siluULPs bounds every SwiGLU path's silu against float64 math, in units
// of the float32 spacing at the exact value (2⁻¹⁴⁹ in the subnormal range):
// e^r is within 0.8 ulp (truncation < 0.1, the rest Horner's roundings),
// then four float32 roundings (g·t, 1+t, the division, 2^n into the
// subnormals or t's last add) of up to 2⁻²⁴ relative each, which is up
// to 1 ulp at the top of a binade. Observed: 2.9 ulp with FMAs, 3.1 without.
const siluULPs = 4

// silu64 is the reference: g / (1 + e^-g) in float64, and its limit 0 at
// -inf (where the formula is -inf/inf).
func silu64(g float32) float64 {
	if math.IsInf(float64(g), -1) {
		return 0
	}
	return float64(g) / (1 + math.Exp(-float64(g)))
}

// ulpAt is the spacing of float32 values at |v|.
func ulpAt(v float64) float64 {
	_, e := math.Frexp(v) // |v| in [2^(e-1), 2^e)
	return math.Ldexp(1, max(e-24, -149))
}

// ulps is |got - want| in ulpAt(want); 0 if equal (infinities included).
func ulps(got float32, want float64) float64 {
	if float64(got) == want {
		return 0
	}
	return math.Abs(float64(got)-want) / ulpAt(want)
}

// siluInputs: edge values (zeros, subnormals, where e^-|g| and g·e^g leave
// the normal range near ±87..±104, the cap at 120, huge, infinite) and
// random ones: MLP-sized, uniform over ±130, and arbitrary bit patterns.
func siluInputs(r *rand.Rand, n int) []float32 {
	var in []float32
	for _, v := range []float32{
		0, 1e-45, 1e-40, 1.2e-38, 1e-30, 1e-7, 0.34657359, 0.5, 1, 2, 10, 17, 30, 50,
		87, 87.5, 88, 88.72, 89, 90, 91.8, 92, 100, 103, 104, 108, 110, 119.99, 120, 121,
		1e10, 1e30, math.MaxFloat32, float32(math.Inf(1)),
	} {
		in = append(in, v, -v)
	}
	for range n {
		switch r.IntN(4) {
		case 0:
			in = append(in, float32(3*r.NormFloat64()))
		case 1:
			in = append(in, float32(260*r.Float64()-130))
		case 2:
			in = append(in, float32(r.NormFloat64()*math.Exp2(float64(r.IntN(60)-40))))
		default:
			if f := math.Float32frombits(r.Uint32()); !math.IsNaN(float64(f)) {
				in = append(in, f)
			}
		}
	}
	return in
}

// swiGLUPaths lists the implementations: each C kernel mode (the pure-Go
// loop in nocgo builds) and the pure-Go loop.
func swiGLUPaths() map[string]func(gate, up []float32) {
	paths := map[string]func(gate, up []float32){"go": kernels.GoSwiGLU}
	for _, mode := range kernels.Modes() {
		paths[fmt.Sprintf("mode%d", mode)] = func(g, u []float32) { kernels.SwiGLUMode(mode, g, u) }
	}
	return paths
}

func TestSwiGLU(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	in := siluInputs(r, 200000)
	ones := make([]float32, len(in))
	for i := range ones {
		ones[i] = 1
	}
	up := make([]float32, len(in))
	for i := range up {
		up[i] = float32(r.NormFloat64() * math.Exp2(float64(r.IntN(20)-10)))
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	portable := make([]float32, len(in))
	copy(portable, in)
	kernels.SwiGLUMode(0, portable, ones)
	for name, f := range swiGLUPaths() {
		t.Run(name, func(t *testing.T) {
			got := append([]float32(nil), in...)
			f(got, ones)
			worst := 0.0
			for i, g := range in {
				e := ulps(got[i], silu64(g))
				require.LessOrEqual(t, e, float64(siluULPs), "silu(%g) = %g, want %g", g, got[i], silu64(g))
				worst = max(worst, e)
				// The paths agree with the portable C within the same bound
				// (AVX2 and AVX-512 are bitwise equal, both using FMAs).
				d := ulps(got[i], float64(portable[i]))
				require.LessOrEqual(t, d, float64(siluULPs), "silu(%g) = %g, portable C %g", g, got[i], portable[i])
			}
			t.Logf("worst error %.2f ulp", worst)

			// The product with up rounds once more: the silu error scaled
			// by |up| plus half an ulp of the result.
			copy(got, in)
			f(got, up)
			for i, g := range in {
				want := silu64(g) * float64(up[i])
				tol := siluULPs*ulpAt(silu64(g))*math.Abs(float64(up[i])) + ulpAt(want)/2
				if math.IsInf(want, 0) || math.Abs(want) > math.MaxFloat32 {
					require.Equal(t, float32(want), got[i], "silu(%g)·%g", g, up[i])
					continue
				}
				require.InDelta(t, want, float64(got[i]), tol, "silu(%g)·%g", g, up[i])
			}

			sp := []float32{nan, inf, -inf, nan, 0}
			f(sp, []float32{1, 2, 3, -1, inf})
			require.True(t, math.IsNaN(float64(sp[0])), "NaN in, NaN out: %g", sp[0])
			require.Equal(t, 2*inf, sp[1], "+inf·2")
			require.Zero(t, sp[2], "-inf·3 (silu → 0)")
			require.True(t, math.IsNaN(float64(sp[3])), "NaN·-1: %g", sp[3])
			require.True(t, math.IsNaN(float64(sp[4])), "silu(0)·inf = 0·inf: %g", sp[4])
		})
	}
}

// Every length 0..40 (the vector tails) and a long one: each element as
// its own one-element call, nothing outside gate[:n] written, up unchanged.
func TestSwiGLULengths(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for name, f := range swiGLUPaths() {
		for _, n := range append([]int{1000}, func() (s []int) {
			for n := range 41 {
				s = append(s, n)
			}
			return s
		}()...) {
			t.Run(fmt.Sprintf("%s/n%d", name, n), func(t *testing.T) {
				g, u := make([]float32, n+3), make([]float32, n+3)
				for i := range g {
					g[i], u[i] = float32(4*r.NormFloat64()), float32(r.NormFloat64())
				}
				g0, u0 := append([]float32(nil), g...), append([]float32(nil), u...)
				if n > 0 {
					f(g[:n], u[:n])
				}
				for i := range n {
					one := []float32{g0[i]}
					f(one, u0[i:i+1])
					require.Equal(t, one[0], g[i], "element %d", i)
				}
				require.Equal(t, g0[n:], g[n:], "past n")
				require.Equal(t, u0, u, "up")
			})
		}
	}
}

// The exported entry point is the widest mode's kernel.
func TestSwiGLUEntry(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	g, u := make([]float32, 999), make([]float32, 999)
	for i := range g {
		g[i], u[i] = float32(4*r.NormFloat64()), float32(r.NormFloat64())
	}
	want := append([]float32(nil), g...)
	m := kernels.Modes()
	kernels.SwiGLUMode(m[len(m)-1], want, u)
	kernels.SwiGLU(g, u)
	require.Equal(t, want, g)
	kernels.SwiGLU(nil, nil)
}
