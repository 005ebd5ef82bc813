package kernels

// GoMatMulRows exposes the pure-Go kernel so it is tested even in cgo builds.
var GoMatMulRows = goMatMulRows
