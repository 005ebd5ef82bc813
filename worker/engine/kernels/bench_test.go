package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

// BenchmarkMatMulMode compares the kernel modes on one core for a
// TinyLlama-sized BF16 matrix: n=1 is decode, n=96 prefill. GFLOP/cpu-s
// divides by CPU time instead of wall time (robust on a shared machine).
func BenchmarkMatMulMode(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	m, _ := randMatrix(r, kernels.BF16, 1024, 2048)
	for _, n := range []int{1, 96} {
		x := make([]float32, n*m.Cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		out := make([]float32, n*m.Rows)
		for _, mode := range kernels.Modes() {
			if mode == 0 && n > 1 {
				continue // the portable loop is far too slow to be worth timing
			}
			b.Run(fmt.Sprintf("n%d/mode%d", n, mode), func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					kernels.MatMulMode(mode, out, x, n, m)
				}
				flops := 2 * float64(n*m.Rows*m.Cols) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}

// BenchmarkQMatMulMode: the quantized kernels on one core, per mode, for
// TinyLlama-sized matrices: 2048×2048 for decode (n=1) and prefill (n=64,
// 128), and the MLP's 5632×2048 (gate, up) and 2048×5632 (down) at n=128;
// activations quantized beforehand (as the pool does once per call).
func BenchmarkQMatMulMode(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	cases := []struct{ rows, cols, n int }{
		{2048, 2048, 1}, {2048, 2048, 64}, {2048, 2048, 128}, {5632, 2048, 128}, {2048, 5632, 128},
	}
	for _, d := range qtypes {
		for _, c := range cases {
			m := randBlocks(r, d, c.rows, c.cols)
			n := c.n
			x := randActs(r, n, m.Cols)
			xq := make([]byte, n*kernels.ActRowBytes(d, m.Cols))
			kernels.QuantizeActsC(kernels.KActs(d), x, n, m.Cols, xq)
			out := make([]float32, n*m.Rows)
			shape := ""
			if c.rows != 2048 || c.cols != 2048 {
				shape = fmt.Sprintf("%dx%d/", c.rows, c.cols)
			}
			for _, mode := range kernels.QModes()[1:] {
				b.Run(fmt.Sprintf("%v/%sn%d/mode%d", d, shape, n, mode), func(b *testing.B) {
					cpu0 := cpuTime()
					for b.Loop() {
						kernels.QMatMulMode(mode, out, xq, n, m)
					}
					flops := 2 * float64(n*m.Rows*m.Cols) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if cpu := cpuTime() - cpu0; cpu > 0 {
						b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
					}
					b.ReportMetric(float64(len(m.Data))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
				})
			}
		}
	}
}

// BenchmarkDecodeStream: one decode matmul over a BF16 matrix far larger
// than the caches (8192×8192, 128 MiB), all pool workers: memory-bound.
func BenchmarkDecodeStream(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	m, _ := randMatrix(r, kernels.BF16, 8192, 8192)
	pool := kernels.NewPool(0)
	b.Cleanup(pool.Close)
	x := make([]float32, m.Cols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	out := make([]float32, m.Rows)
	best := time.Duration(1 << 62)
	for b.Loop() {
		t0 := time.Now()
		pool.MatMul(out, x, 1, m)
		best = min(best, time.Since(t0))
	}
	b.ReportMetric(float64(len(m.Data))/b.Elapsed().Seconds()*float64(b.N)/1e9, "GB/s")
	b.ReportMetric(float64(len(m.Data))/best.Seconds()/1e9, "best-GB/s")
}

// perElem reports wall and CPU nanoseconds per element of a benchmark
// that handled n elements per iteration; cpu0 is cpuTime() at its start.
func perElem(b *testing.B, n int, cpu0 time.Duration) {
	els := float64(n) * float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/els, "ns/elem")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/els, "cpu-ns/elem")
	}
}

// BenchmarkSwiGLU: one core, 64Ki elements (the engine's pool grain is
// 16Ki; gate and up, 512 KiB, stay in L2), gate values as an MLP's. Each
// iteration first restores gate: "copy" times that alone.
func BenchmarkSwiGLU(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	const n = 1 << 16
	g0, up, g := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g0 {
		g0[i], up[i] = float32(3*r.NormFloat64()), float32(r.NormFloat64())
	}
	run := func(name string, f func(gate, up []float32)) {
		b.Run(name, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				copy(g, g0)
				f(g, up)
			}
			perElem(b, n, cpu0)
		})
	}
	run("copy", func(_, _ []float32) {})
	run("go", kernels.GoSwiGLU)
	for _, mode := range kernels.Modes() {
		run(fmt.Sprintf("mode%d", mode), func(g, u []float32) { kernels.SwiGLUMode(mode, g, u) })
	}
}

// BenchmarkQuantizeActs: activations of 64 tokens × 2048 (512 KiB, in
// L2) to Q8_0 and Q8_K blocks on one core, Go and each C mode (mode0 is
// the portable C).
func BenchmarkQuantizeActs(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	const n, cols = 64, 2048
	x := randActs(r, n, cols)
	for _, d := range []kernels.DType{kernels.Q8_0, kernels.Q4_K} {
		k := kernels.KActs(d)
		name := map[bool]string{false: "Q8_0", true: "Q8_K"}[k]
		dst := make([]byte, n*kernels.ActRowBytes(d, cols))
		run := func(impl string, f func(k bool, x []float32, n, cols int, dst []byte)) {
			b.Run(name+"/"+impl, func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					f(k, x, n, cols, dst)
				}
				perElem(b, n*cols, cpu0)
			})
		}
		run("go", kernels.QuantizeActs)
		for _, mode := range kernels.Modes() {
			run(fmt.Sprintf("mode%d", mode), func(k bool, x []float32, n, cols int, dst []byte) {
				kernels.QuantizeActsMode(mode, k, x, n, cols, dst)
			})
		}
	}
}
