//go:build cgo

// Quantized matrix products: weights in ggml blocks (Q8_0, Q4_0, Q4_K, Q5_K,
// Q6_K) times activations quantized per block (Q8_0 or Q8_K), integer dot
// products per block. Layouts: see quant.go. The portable loops follow
// ggml's generic vec_dot_*; the x86 ones (qkernels_avx.h) its AVX2 ones.
#include "kernels.h"
#include "fp16.h"
#include <math.h>
#include <string.h>

typedef float (*qdot_fn)(int nb, const uint8_t *w, const uint8_t *x);
// qtile_fn: rows w + i·rb (i < the kernel's rows) against its tokens
// x + k·xs (prefill), result (i, k) in o[k·ldo + i].
typedef void (*qtile_fn)(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, size_t ldo);
// qtail_fn: a tile's rows (one row if one) against nt < toks tokens.
typedef void (*qtail_fn)(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, size_t ldo, int nt, int one);
// qgemv_fn: o[r] = row r (w + r·rb) · the one token x, r < nr.
typedef void (*qgemv_fn)(int nb, const uint8_t *w, size_t rb, const uint8_t *x, float *o, int nr);
// qamx_fn: rows [r0, r1) × n tokens (a multiple of 16) on AMX.
typedef void (*qamx_fn)(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, int n, float *o, size_t ldo,
                        int r0, int r1);
// qkern: one type's kernels in one mode: dot for one row × one token,
// tile for rows × toks tokens (NULL: none), tile1 for 1 row × toks, tail
// (NULL: none) for rows × fewer tokens, gemv (NULL: dot per row) for one
// token. The AMX products are not a mode's own set but an addition to the
// 512-bit one (pick_amx).
struct qkern {
	qdot_fn dot;
	qtile_fn tile, tile1;
	int rows, toks;
	qtail_fn tail;
	qgemv_fn gemv;
};

static inline int32_t i16at(const uint8_t *p) { int16_t v; memcpy(&v, p, 2); return v; }
static inline float f32at(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }
static inline float h16at(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return f16_f32(v); }

static inline void scale_min_k4(int j, const uint8_t *q, int *sc, int *m) {
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

static float dot_q8_0_c(int nb, const uint8_t *w, const uint8_t *x) {
	float s = 0;
	for (int b = 0; b < nb; b++, w += 34, x += 34) {
		int32_t si = 0;
		for (int j = 0; j < 32; j++) si += (int8_t)w[2 + j] * (int8_t)x[2 + j];
		s += (float)si * (h16at(w) * h16at(x));
	}
	return s;
}

static float dot_q4_0_c(int nb, const uint8_t *w, const uint8_t *x) {
	float s = 0;
	for (int b = 0; b < nb; b++, w += 18, x += 34) {
		int32_t si = 0;
		for (int j = 0; j < 16; j++)
			si += ((w[2 + j] & 0xf) - 8) * (int8_t)x[2 + j] + ((w[2 + j] >> 4) - 8) * (int8_t)x[18 + j];
		s += (float)si * (h16at(w) * h16at(x));
	}
	return s;
}

static float dot_q5_0_c(int nb, const uint8_t *w, const uint8_t *x) {
	float s = 0;
	for (int b = 0; b < nb; b++, w += 22, x += 34) {
		uint32_t qh;
		memcpy(&qh, w + 2, 4);
		int32_t si = 0;
		for (int j = 0; j < 16; j++) {
			int lo = (w[6 + j] & 0xf) | ((qh >> j) & 1) << 4, hi = (w[6 + j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
			si += (lo - 16) * (int8_t)x[2 + j] + (hi - 16) * (int8_t)x[18 + j];
		}
		s += (float)si * (h16at(w) * h16at(x));
	}
	return s;
}

// q4_K and q5_K share the layout up to the 5th bits (qh, Q5_K only).
static inline float dot_k45_c(int nb, const uint8_t *w, const uint8_t *x, int five) {
	float s = 0;
	int wb = five ? 176 : 144;
	for (int b = 0; b < nb; b++, w += wb, x += 292) {
		const uint8_t *sc = w + 4, *qh = w + 16, *qs = w + (five ? 48 : 16);
		const int8_t *q8 = (const int8_t *)x + 4;
		int32_t si = 0, ms = 0;
		for (int j = 0; j < 8; j++) {
			int scl, m, sh = 4 * (j & 1);
			scale_min_k4(j, sc, &scl, &m);
			int32_t js = 0;
			for (int l = 0; l < 32; l++) {
				int q = (qs[32 * (j / 2) + l] >> sh) & 0xf;
				if (five && ((qh[l] >> j) & 1)) q += 16;
				js += q * q8[32 * j + l];
			}
			si += js * scl;
			ms += m * (i16at(x + 260 + 4 * j) + i16at(x + 262 + 4 * j));
		}
		float xd = f32at(x);
		s += xd * h16at(w) * (float)si - xd * h16at(w + 2) * (float)ms;
	}
	return s;
}

static float dot_q4_K_c(int nb, const uint8_t *w, const uint8_t *x) { return dot_k45_c(nb, w, x, 0); }
static float dot_q5_K_c(int nb, const uint8_t *w, const uint8_t *x) { return dot_k45_c(nb, w, x, 1); }

static float dot_q6_K_c(int nb, const uint8_t *w, const uint8_t *x) {
	float s = 0;
	for (int b = 0; b < nb; b++, w += 210, x += 292) {
		const uint8_t *ql = w, *qh = w + 128;
		const int8_t *sc = (const int8_t *)w + 192, *q8 = (const int8_t *)x + 4;
		int32_t si = 0;
		for (int g = 0; g < 16; g++) {
			int32_t gs = 0;
			for (int i = 16 * g; i < 16 * g + 16; i++) {
				int h = i / 128, l = i % 128;
				int lo = (ql[64 * h + l % 64] >> (4 * (l / 64))) & 0xf;
				int hi = (qh[32 * h + l % 32] >> (2 * (l / 32))) & 3;
				gs += ((lo | hi << 4) - 32) * q8[i];
			}
			si += gs * sc[g];
		}
		s += f32at(x) * h16at(w + 208) * (float)si;
	}
	return s;
}

// dtype codes 3..8 as in dtype.go.
#define QTYPES 6
static const struct qkern qkern_c[QTYPES] = {
    {dot_q8_0_c, NULL, NULL, 1, 1, NULL}, {dot_q4_0_c, NULL, NULL, 1, 1, NULL}, {dot_q4_K_c, NULL, NULL, 1, 1, NULL},
    {dot_q5_K_c, NULL, NULL, 1, 1, NULL}, {dot_q6_K_c, NULL, NULL, 1, 1, NULL}, {dot_q5_0_c, NULL, NULL, 1, 1, NULL},
};
static const int qblock_vals[QTYPES] = {32, 32, 256, 256, 256, 32};
static const int qblock_bytes[QTYPES] = {34, 18, 144, 176, 210, 22};

static void quantize_acts_c(int k, const float *x, int nvals, void *dst) {
	uint8_t *o = dst;
	if (!k) {
		for (int b = 0; b < nvals / 32; b++, x += 32, o += 34) {
			float amax = 0;
			for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
			float d = amax / 127, id = amax != 0 ? 127 / amax : 0;
			uint16_t h = f32_f16(d);
			memcpy(o, &h, 2);
			for (int j = 0; j < 32; j++) o[2 + j] = (uint8_t)(int8_t)nearbyintf(x[j] * id);
		}
		return;
	}
	for (int b = 0; b < nvals / 256; b++, x += 256, o += 292) {
		float amax = 0, mx = 0;
		for (int j = 0; j < 256; j++)
			if (fabsf(x[j]) > amax) amax = fabsf(x[j]), mx = x[j];
		memset(o, 0, 292);
		if (amax == 0) continue;
		float is = -127 / mx, d = 1 / is;
		memcpy(o, &d, 4);
		for (int j = 0; j < 256; j++) {
			int q = (int)nearbyintf(is * x[j]);
			o[4 + j] = (uint8_t)(int8_t)(q > 127 ? 127 : q);
		}
		for (int g = 0; g < 16; g++) {
			int16_t s = 0;
			for (int j = 0; j < 16; j++) s += (int8_t)o[4 + 16 * g + j];
			memcpy(o + 260 + 2 * g, &s, 2);
		}
	}
}

// Token blocks of ~256 KB of activations stay in L2, and so do row blocks
// of at most ~256 KB of weights (the pool's chunks are smaller already; a
// whole matrix in one call, as the benchmarks do, is cut so); within them
// a tile's tokens stay in L1 while the block's rows are swept over them.
// Rows past the last full tile go through the one-row tile, tokens past
// the last full tile through the tail tile (or dot where there is none,
// and for one token).
static void qmatmul_tiles(const struct qkern *q, int nb, size_t rb, size_t xb, const uint8_t *w8, const uint8_t *x8,
                          int n, float *out, int ldo, int r0, int r1) {
	int tb = (int)((256u << 10) / (xb ? xb : 1)), rbk = (int)((256u << 10) / (rb ? rb : 1));
	tb = tb < q->toks ? q->toks : tb / q->toks * q->toks;
	rbk = rbk < q->rows ? q->rows : rbk / q->rows * q->rows;
	for (int t0 = 0; t0 < n; t0 += tb) {
		int t1 = t0 + tb < n ? t0 + tb : n, tf = t0;
		for (int b0 = r0; b0 < r1; b0 += rbk) {
			int b1 = b0 + rbk < r1 ? b0 + rbk : r1;
			for (tf = t0; q->tile && tf + q->toks <= t1; tf += q->toks) {
				int r = b0;
				for (; r + q->rows <= b1; r += q->rows)
					q->tile(nb, w8 + (size_t)r * rb, rb, x8 + (size_t)tf * xb, xb, out + (size_t)tf * ldo + r, (size_t)ldo);
				for (; r < b1; r++)
					q->tile1(nb, w8 + (size_t)r * rb, rb, x8 + (size_t)tf * xb, xb, out + (size_t)tf * ldo + r, (size_t)ldo);
			}
		}
		// one token (decode) goes through dot: a single row stream reads
		// DRAM fastest, and there is no reuse to gain
		if (q->tail && tf < t1 && n > 1) {
			int r = r0;
			for (; r + q->rows <= r1; r += q->rows)
				q->tail(nb, w8 + (size_t)r * rb, rb, x8 + (size_t)tf * xb, xb, out + (size_t)tf * ldo + r, (size_t)ldo, t1 - tf, 0);
			for (; r < r1; r++)
				q->tail(nb, w8 + (size_t)r * rb, rb, x8 + (size_t)tf * xb, xb, out + (size_t)tf * ldo + r, (size_t)ldo, t1 - tf, 1);
			continue;
		}
		for (int tt = tf; tt < t1; tt++)
			for (int r = r0; r < r1; r++)
				out[(size_t)tt * ldo + r] = q->dot(nb, w8 + (size_t)r * rb, x8 + (size_t)tt * xb);
	}
}

// qmatmul_with: one token through gemv where there is one; whole groups
// of 16 tokens through amx where there is one (NULL: none), the tokens
// past them (and everything else) through the tiles.
static void qmatmul_with(const struct qkern *q, qamx_fn amx, int dtype, const void *w, int cols, const void *xq, int n,
                         float *out, int ldo, int r0, int r1) {
	int t = dtype - 3, nb = cols / qblock_vals[t];
	size_t rb = (size_t)nb * qblock_bytes[t], xb = (size_t)nb * (qblock_vals[t] == 32 ? 34 : 292);
	const uint8_t *w8 = w, *x8 = xq;
	if (n == 1 && q->gemv) {
		q->gemv(nb, w8 + (size_t)r0 * rb, rb, x8, out + r0, r1 - r0);
		return;
	}
	int n16 = n / 16 * 16;
	if (amx && n16 > 0) {
		amx(nb, w8, rb, x8, xb, n16, out, (size_t)ldo, r0, r1);
		if (n16 < n) qmatmul_tiles(q, nb, rb, xb, w8, x8 + (size_t)n16 * xb, n - n16, out + (size_t)n16 * ldo, ldo, r0, r1);
		return;
	}
	qmatmul_tiles(q, nb, rb, xb, w8, x8, n, out, ldo, r0, r1);
}

#if defined(__x86_64__) && !defined(RB_NO_X86)
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#define INLINE static inline __attribute__((always_inline))

// Decode reads rows once, and prefetches them into L2 far ahead and into
// L1 near: with the hardware prefetchers alone a Q8_0 row stream read DRAM
// at about half a plain read's speed on an Intel core (7 of 14 GB/s), with
// both at 0.95 of it (a C driver over 530 MB, 2 threads: 25.7 of 27.1).
#define QPF_L2 8192
#define QPF_L1 1024

#define QSUF _avx2
#define QTARGET __attribute__((target("avx2,fma,f16c")))
#define QVNNI 0
#include "qkernels_avx.h"
#include "qkernels_tile.h"
#undef QF
#undef QSUF
#undef QTARGET
#undef QVNNI

#define QSUF _vnni
#define QTARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#define QVNNI 1
#include "qkernels_avx.h"
#include "qkernels_zmm.h"
#include "qgemv_zmm.h"
#include "qamx.h"
#undef QF

// VNNI: the one-token kernels of qkernels_avx.h, the 512-bit tiles.
static const struct qkern qkern_zmm[QTYPES] = {
    {dot_q8_0_vnni, qz_tile_q8_0, qz_tile1_q8_0, QZ_ROWS, QZ_TOKS, qz_tail_q8_0, qg_gemv_q8_0},
    {dot_q4_0_vnni, qz_tile_q4_0, qz_tile1_q4_0, QZ_ROWS, QZ_TOKS, qz_tail_q4_0, qg_gemv_q4_0},
    {dot_q4_K_vnni, qz_tile_q4_K, qz_tile1_q4_K, QZ_KROWS, QZ_TOKS, qz_tail_q4_K},
    {dot_q5_K_vnni, qz_tile_q5_K, qz_tile1_q5_K, QZ_KROWS, QZ_TOKS, qz_tail_q5_K},
    {dot_q6_K_vnni, qz_tile_q6_K, qz_tile1_q6_K, QZ_KROWS, QZ_TOKS, qz_tail_q6_K},
    {dot_q5_0_vnni, qz_tile_q5_0, qz_tile1_q5_0, QZ_ROWS, QZ_TOKS, qz_tail_q5_0, qg_gemv_q5_0},
};

// AMX (mode 3): Q8_0, Q4_K and Q6_K prefill on the tile unit, on top of
// the 512-bit kernels.
static const qamx_fn qamx[QTYPES] = {qa_q8_0, NULL, qa_q4_K, NULL, qa_q6_K, NULL};

// Linux lends a process the tile registers' 8 KiB of state only on request
// (arch_prctl), once for all its threads; the answer is kept for the
// process, as the CPU's features are.
static int amx_usable;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;
static void amx_request(void) {
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25))) return;
	amx_usable = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0;
}

// 0 portable, 1 AVX2, 2 AVX-512 VNNI, 3 that and AMX-INT8.
int rb_qsimd(void) {
	__builtin_cpu_init();
	if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))) return 0;
	if (!(__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))) return 1;
	pthread_once(&amx_once, amx_request);
	return amx_usable ? 3 : 2;
}

static const struct qkern *pick(int mode, int t) {
	int l = rb_qsimd();
	if (mode >= 2 && l >= 2) return &qkern_zmm[t];
	if (mode >= 1 && l >= 1) return &qkern_avx2[t];
	return &qkern_c[t];
}

static qamx_fn pick_amx(int mode, int t) { return mode >= 3 && rb_qsimd() >= 3 ? qamx[t] : NULL; }

#include "qquant_avx.h"

void rb_quantize_acts(int mode, int k, const float *x, int nvals, void *dst) {
	int l = rb_simd();
	if (l >= 2 && !__builtin_cpu_supports("avx512bw")) l = 1; // sad_epu8 at 512 bits
	if (mode >= 2 && l >= 2) {
		k ? quant_q8_K_avx512(x, nvals / 256, dst) : quant_q8_0_avx512(x, nvals / 32, dst);
	} else if (mode >= 1 && l >= 1) {
		k ? quant_q8_K_avx2(x, nvals / 256, dst) : quant_q8_0_avx2(x, nvals / 32, dst);
	} else {
		quantize_acts_c(k, x, nvals, dst);
	}
}
#else
int rb_qsimd(void) { return 0; }
static const struct qkern *pick(int mode, int t) {
	(void)mode;
	return &qkern_c[t];
}
static qamx_fn pick_amx(int mode, int t) {
	(void)mode, (void)t;
	return NULL;
}

void rb_quantize_acts(int mode, int k, const float *x, int nvals, void *dst) {
	(void)mode;
	quantize_acts_c(k, x, nvals, dst);
}
#endif

void rb_qmatmul(int mode, int dtype, const void *w, int cols, const void *xq, int n,
                float *out, int ldo, int r0, int r1) {
	qmatmul_with(pick(mode, dtype - 3), pick_amx(mode, dtype - 3), dtype, w, cols, xq, n, out, ldo, r0, r1);
}
