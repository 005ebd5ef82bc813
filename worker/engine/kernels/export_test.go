package kernels

// GoMatMulRows exposes the pure-Go kernel so it is tested even in cgo builds.
var GoMatMulRows = goMatMulRows

// Modes lists the kernel modes this build and CPU can run.
var Modes = modes

// MatMulMode runs one kernel mode over all rows (single-threaded), with
// the activation layout that mode expects.
func MatMulMode(mode int, out, x []float32, n int, w Matrix) {
	if splitActs(mode, w.DType, n) {
		np := splitTokens(n)
		xs := make([]uint16, np*splitWords(w.Cols))
		splitActsC(x, n, w.Cols, xs, np)
		matmulSplitRows(w, xs, n, out, w.Rows, 0, w.Rows)
		return
	}
	if w.DType == BF16 && permutes(mode) {
		xp := make([]float32, len(x))
		for t := range n {
			permute16(xp[t*w.Cols:(t+1)*w.Cols], x[t*w.Cols:(t+1)*w.Cols])
		}
		x = xp
	}
	matmulRows(mode, w, x, n, out, w.Rows, 0, w.Rows)
}

// AttendMode runs one attention mode; GoAttend the pure-Go loop.
func AttendMode(mode int, q []float32, group, hd int, k, v []float32, scale float32, sc, out []float32) {
	n := len(k) / hd
	attend(mode, q, group, hd, k, v, scale, sc[:group*n], out)
}

var GoAttend = goAttend

// QModes lists the quantized kernel modes this build and CPU can run.
var QModes = qmodes

// QuantizeActs is the Go activation quantizer, QuantizeActsC the one the
// pool uses (C with cgo), QuantizeActsMode one kernel mode of it; k
// selects Q8_K (else Q8_0).
var (
	QuantizeActs     = quantizeActs
	QuantizeActsC    = quantizeActsC
	QuantizeActsMode = quantizeActsMode
	ActRowBytes      = actRowBytes
)

// QMatMulMode runs one quantized kernel mode (or the pure-Go loop when
// mode < 0) over all rows, single-threaded, on pre-quantized activations.
func QMatMulMode(mode int, out []float32, xq []byte, n int, w Matrix) {
	if mode < 0 {
		goQMatMulRows(w, xq, n, out, w.Rows, 0, w.Rows)
		return
	}
	qmatmulRows(mode, w, xq, n, out, w.Rows, 0, w.Rows)
}

// QMatMulRange runs one quantized kernel mode over rows [r0,r1) only.
func QMatMulRange(mode int, out []float32, xq []byte, n int, w Matrix, r0, r1 int) {
	qmatmulRows(mode, w, xq, n, out, w.Rows, r0, r1)
}

// KActs reports whether d's activations are Q8_K blocks.
func KActs(d DType) bool { return d.kActs() }

// SwiGLUMode runs one kernel mode of SwiGLU; GoSwiGLU the pure-Go loop.
func SwiGLUMode(mode int, gate, up []float32) { swiGLU(mode, gate, up) }

var GoSwiGLU = goSwiGLU
