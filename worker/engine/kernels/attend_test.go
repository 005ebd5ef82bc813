package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// attendRef is softmax(q·kᵀ·scale)·v in float64.
func attendRef(q []float32, group, hd int, k, v []float32, scale float64) []float32 {
	n := len(k) / hd
	out := make([]float32, group*hd)
	for i := range group {
		s := make([]float64, n)
		best := math.Inf(-1)
		for j := range n {
			for c := range hd {
				s[j] += float64(q[i*hd+c]) * float64(k[j*hd+c])
			}
			s[j] *= scale
			best = max(best, s[j])
		}
		var sum float64
		for j := range s {
			s[j] = math.Exp(s[j] - best)
			sum += s[j]
		}
		for c := range hd {
			var o float64
			for j := range n {
				o += s[j] / sum * float64(v[j*hd+c])
			}
			out[i*hd+c] = float32(o)
		}
	}
	return out
}

func TestAttend(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	randv := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	for _, c := range []struct{ group, hd, n int }{{1, 64, 1}, {8, 64, 37}, {3, 96, 5}, {1, 20, 9}, {4, 128, 300}, {2, 7, 3}} {
		q, k, v := randv(c.group*c.hd), randv(c.n*c.hd), randv(c.n*c.hd)
		scale := 1 / math.Sqrt(float64(c.hd))
		want := attendRef(q, c.group, c.hd, k, v, scale)
		sc := make([]float32, c.group*c.n)
		out := make([]float32, c.group*c.hd)
		name := fmt.Sprintf("g%d/hd%d/n%d", c.group, c.hd, c.n)
		kernels.Attend(q, c.group, c.hd, k, v, float32(scale), sc, out)
		requireClose(t, want, out, 1e-5, name+" Attend")
		kernels.GoAttend(q, c.group, c.hd, k, v, float32(scale), sc, out)
		requireClose(t, want, out, 1e-5, name+" go")
		for _, mode := range kernels.Modes() {
			clear(out)
			kernels.AttendMode(mode, q, c.group, c.hd, k, v, float32(scale), sc, out)
			requireClose(t, want, out, 1e-5, fmt.Sprintf("%s mode %d", name, mode))
		}
	}
}
