//go:build cgo

// Hand-written because no maintained Go-callable library multiplies BF16/F16
// weights by F32 activations without first widening the whole matrix.
#include "kernels.h"
#include <string.h>

static inline float bf16_f32(uint16_t b) {
	uint32_t u = (uint32_t)b << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static inline float f16_f32(uint16_t h) {
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
	if (exp == 0x1f) {
		u = sign | 0x7f800000 | mant << 13;
	} else if (exp != 0) {
		u = sign | (exp + 112) << 23 | mant << 13;
	} else if (mant == 0) {
		u = sign;
	} else {
		float f = (float)mant * (1.0f / 16777216.0f);
		return sign ? -f : f;
	}
	float f;
	memcpy(&f, &u, 4);
	return f;
}

// weight element c of a row, widened.
static inline float wval(int dtype, const void *row, int c) {
	switch (dtype) {
	case 0: return ((const float *)row)[c];
	case 1: return f16_f32(((const uint16_t *)row)[c]);
	default: return bf16_f32(((const uint16_t *)row)[c]);
	}
}

// Portable path: any CPU, any platform; x in natural order. Each row is
// widened once into a stack block so the dot loops are plain F32 that
// clang/gcc vectorise.
static void matmul_scalar(int dtype, const void *w, int cols, const float *x, int n,
                          float *out, int ldo, int r0, int r1) {
	size_t rb = (size_t)cols * (dtype == 0 ? 4 : 2);
	float buf[1024];
	for (int r = r0; r < r1; r++) {
		const char *row = (const char *)w + (size_t)r * rb;
		for (int t = 0; t < n; t++) out[(size_t)t * ldo + r] = 0;
		for (int c0 = 0; c0 < cols; c0 += 1024) {
			int m = cols - c0 < 1024 ? cols - c0 : 1024;
			for (int c = 0; c < m; c++) buf[c] = wval(dtype, row, c0 + c);
			for (int t = 0; t < n; t++) {
				const float *xt = x + (size_t)t * cols + c0;
				float s = 0;
				for (int c = 0; c < m; c++) s += buf[c] * xt[c];
				out[(size_t)t * ldo + r] += s;
			}
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

#if defined(__x86_64__)
#include "kernels_avx2.h"

static int have_avx2 = -1;

static int avx2(void) {
	if (have_avx2 < 0) {
		__builtin_cpu_init();
		have_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
	}
	return have_avx2;
}

int rb_simd(void) { return avx2(); }

void rb_matmul(int simd, int dtype, const void *w, int cols, const float *x, int n,
               float *out, int ldo, int r0, int r1) {
	if (simd && avx2()) {
		matmul_avx2(dtype, w, cols, x, n, out, ldo, r0, r1);
	} else {
		matmul_scalar(dtype, w, cols, x, n, out, ldo, r0, r1);
	}
}

uint64_t rb_stream_sum(const void *p, size_t n) {
	return avx2() ? stream_sum_avx2(p, n) : stream_sum_scalar(p, n);
}
#else
int rb_simd(void) { return 0; }

void rb_matmul(int simd, int dtype, const void *w, int cols, const float *x, int n,
               float *out, int ldo, int r0, int r1) {
	(void)simd;
	matmul_scalar(dtype, w, cols, x, n, out, ldo, r0, r1);
}

uint64_t rb_stream_sum(const void *p, size_t n) { return stream_sum_scalar(p, n); }
#endif
