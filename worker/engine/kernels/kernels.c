//go:build cgo

// Hand-written because no maintained Go-callable library multiplies BF16/F16
// weights by F32 activations without first widening the whole matrix.
#include "kernels.h"
#include "fp16.h"
#include <math.h>
#include <string.h>

// weight element c of a row, widened.
static inline float wval(int dtype, const void *row, int c) {
	switch (dtype) {
	case 0: return ((const float *)row)[c];
	case 1: return f16_f32(((const uint16_t *)row)[c]);
	default: return bf16_f32(((const uint16_t *)row)[c]);
	}
}

// widen converts m weights of a row starting at c0 into buf; one loop per
// dtype so compilers vectorise the BF16 and F32 cases.
static void widen(int dtype, const void *row, int c0, int m, float *buf) {
	if (dtype == 0) {
		memcpy(buf, (const float *)row + c0, (size_t)m * 4);
	} else if (dtype == 2) {
		const uint16_t *p = (const uint16_t *)row + c0;
		uint32_t *u = (uint32_t *)buf;
		for (int c = 0; c < m; c++) u[c] = (uint32_t)p[c] << 16;
	} else {
		const uint16_t *p = (const uint16_t *)row + c0;
		for (int c = 0; c < m; c++) buf[c] = f16_f32(p[c]);
	}
}

// dot16 keeps 16 independent partial sums, so it vectorises without
// reassociating float additions (no -ffast-math needed).
static float dot16(const float *a, const float *b, int m) {
	float acc[16] = {0};
	int c = 0;
	for (; c + 16 <= m; c += 16)
		for (int j = 0; j < 16; j++) acc[j] += a[c + j] * b[c + j];
	float s = 0;
	for (int j = 0; j < 16; j++) s += acc[j];
	for (; c < m; c++) s += a[c] * b[c];
	return s;
}

// Portable path: any CPU, any platform; x in natural order. Each block of a
// row is widened once and reused for every token.
static void matmul_scalar(int dtype, const void *w, int cols, const float *x, int n,
                          float *out, int ldo, int r0, int r1) {
	size_t rb = (size_t)cols * (dtype == 0 ? 4 : 2);
	float buf[1024];
	for (int r = r0; r < r1; r++) {
		const char *row = (const char *)w + (size_t)r * rb;
		for (int t = 0; t < n; t++) out[(size_t)t * ldo + r] = 0;
		for (int c0 = 0; c0 < cols; c0 += 1024) {
			int m = cols - c0 < 1024 ? cols - c0 : 1024;
			widen(dtype, row, c0, m, buf);
			for (int t = 0; t < n; t++) out[(size_t)t * ldo + r] += dot16(buf, x + (size_t)t * cols + c0, m);
		}
	}
}

static uint64_t stream_sum_scalar(const void *p, size_t n) {
	const uint64_t *q = p;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0, w = n / 8;
	for (; i + 4 <= w; i += 4) { s0 += q[i]; s1 += q[i + 1]; s2 += q[i + 2]; s3 += q[i + 3]; }
	for (; i < w; i++) s0 += q[i];
	for (size_t b = w * 8; b < n; b++) s0 += ((const uint8_t *)p)[b];
	return s0 + s1 + s2 + s3;
}

// silu(g) = g / (1 + e^-g) is computed as num / (1 + t) with t = e^-|g|,
// which cannot overflow: num = g for g ≥ 0, g·t below. |g| is capped at
// SILU_CAP, past which t and g·t are under half the smallest subnormal, so
// ±inf give inf·1 and -0 (no inf/inf) and NaN passes through num.
// e^-a = 2^n·e^r, n = round(-a·log2 e), r = -a - n·ln2 with ln2 in two
// parts (n·LN2_HI is exact for |n| < 2^9, the subtraction by Sterbenz);
// e^r is Taylor to r^7 (truncation < 0.1 ulp for |r| ≤ ln2/2). 2^n is
// applied after the multiplication by g, so a subnormal result is rounded
// once; the vector paths scale the same way and only differ by their FMAs.
#define SILU_CAP 120.0f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693145751953125f     // 0x3f317200: 15 significant bits
#define LN2_LO 1.42860682030941723e-6f // ln2 - LN2_HI
#define EXP_C7 (1.0f / 5040) // 1/k! for k = 7..2
#define EXP_C6 (1.0f / 720)
#define EXP_C5 (1.0f / 120)
#define EXP_C4 (1.0f / 24)
#define EXP_C3 (1.0f / 6)
#define EXP_C2 0.5f

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline float pow2i(int k) { return u2f((uint32_t)(k + 127) << 23); } // normal k ≥ -126 only

// Branch-free so compilers vectorise it: gcc does not if-convert a float
// ?: (the comparison may trap), so the cap and the select work on bits.
static void swiglu_scalar(float *gate, const float *up, size_t n) {
	const uint32_t sign = 0x80000000u, ncap = f2u(-SILU_CAP);
	for (size_t i = 0; i < n; i++) {
		float g = gate[i];
		uint32_t u = f2u(g) | sign; // -|g|: for these, larger bits are lower values
		float na = u2f(u < ncap ? u : ncap); // NaN too: it reaches num as g
		float nf = (na * LOG2E + 0x1.8p23f) - 0x1.8p23f; // round to nearest even
		float r = (na - nf * LN2_HI) - nf * LN2_LO;
		float p = EXP_C7 * r + EXP_C6;
		p = p * r + EXP_C5;
		p = p * r + EXP_C4;
		p = p * r + EXP_C3;
		p = p * r + EXP_C2;
		p = p * r + 1;
		p = p * r + 1;
		// 2^n in two normal halves: the first product is exact, the second
		// rounds once, as _mm512_scalef_ps does.
		int k = (int)nf;
		float s1 = pow2i(k / 2), s2 = pow2i(k - k / 2);
		float t = p * s1 * s2, neg = na * p * s1 * s2;
		uint32_t m = -(uint32_t)(g < 0);
		float num = u2f((f2u(neg) & m) | (f2u(g) & ~m));
		gate[i] = num / (1 + t) * up[i];
	}
}

#if defined(__x86_64__) && !defined(RB_NO_X86) // RB_NO_X86: check the non-x86 build here
#define PF_DIST 8192 // see kernels_avx512.h
#include "kernels_avx2.h"
#include "kernels_avx512.h"

// The CPU does not change while the process runs; checking per call is a
// few cycles next to a chunk of rows.
static int level(void) {
	__builtin_cpu_init();
	if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))) return 0;
	return __builtin_cpu_supports("avx512f") ? 2 : 1;
}

int rb_simd(void) { return level(); }

void rb_matmul(int mode, int dtype, const void *w, int cols, const float *x, int n,
               float *out, int ldo, int r0, int r1) {
	int l = level();
	if (mode >= 2 && l >= 2) {
		matmul_avx512(dtype, w, cols, x, n, out, ldo, r0, r1);
	} else if (mode == 1 && l >= 1) {
		matmul_avx2(dtype, w, cols, x, n, out, ldo, r0, r1);
	} else {
		matmul_scalar(dtype, w, cols, x, n, out, ldo, r0, r1);
	}
}

uint64_t rb_stream_sum(const void *p, size_t n) {
	return level() ? stream_sum_avx2(p, n) : stream_sum_scalar(p, n);
}

void rb_swiglu(int mode, float *gate, const float *up, size_t n) {
	int l = level();
	if (mode >= 2 && l >= 2) {
		swiglu_avx512(gate, up, n);
	} else if (mode >= 1 && l >= 1) {
		swiglu_avx2(gate, up, n);
	} else {
		swiglu_scalar(gate, up, n);
	}
}

int rb_attend_zmm(int mode, const float *q, int group, int hd, const float *k, const float *v, int len, float scale,
                  float *sc, float *out) {
	return mode >= 2 && level() >= 2 && attend_avx512_zmm(q, group, hd, k, v, len, scale, sc, out);
}
#else
int rb_simd(void) { return 0; }

void rb_matmul(int mode, int dtype, const void *w, int cols, const float *x, int n,
               float *out, int ldo, int r0, int r1) {
	(void)mode;
	matmul_scalar(dtype, w, cols, x, n, out, ldo, r0, r1);
}

uint64_t rb_stream_sum(const void *p, size_t n) { return stream_sum_scalar(p, n); }

void rb_swiglu(int mode, float *gate, const float *up, size_t n) {
	(void)mode;
	swiglu_scalar(gate, up, n);
}

int rb_attend_zmm(int mode, const float *q, int group, int hd, const float *k, const float *v, int len, float scale,
                  float *sc, float *out) {
	(void)mode, (void)q, (void)group, (void)hd, (void)k, (void)v, (void)len, (void)scale, (void)sc, (void)out;
	return 0;
}
#endif
