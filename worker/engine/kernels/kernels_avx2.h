// AVX2/FMA/F16C kernels, compiled with per-function target attributes and
// only called after a run-time CPU check (see kernels.c).
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

// load16 widens weights [c, c+16) of a row into lo, hi in the order x is
// stored: natural for F32/F16; for BF16 one shift gives the even elements
// and one mask the odd ones (x was permuted to match).
INLINE AVX2 void load16(const int dt, const void *row, int c, __m256 *lo, __m256 *hi) {
	if (dt == 0) {
		*lo = _mm256_loadu_ps((const float *)row + c);
		*hi = _mm256_loadu_ps((const float *)row + c + 8);
	} else if (dt == 1) {
		const uint16_t *p = (const uint16_t *)row + c;
		*lo = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
		*hi = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 8)));
	} else {
		__m256i v = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + c));
		*lo = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
		*hi = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xffff0000)));
	}
}

INLINE AVX2 float hsum(__m256 v) {
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

INLINE float wtail(const int dt, const void *row, int c) { return wval(dt, row, c); }

// k4x1: four rows against one token (decode). Separate accumulators for
// the low and high halves give eight independent FMA chains.
INLINE AVX2 void k4x1(const int dt, const char *w, size_t rb, int cols, const float *x, float *o) {
	const char *w0 = w, *w1 = w + rb, *w2 = w + 2 * rb, *w3 = w + 3 * rb;
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
	int full = cols / 16 * 16;
	for (int c = 0; c < full; c += 16) {
		__m256 xl = _mm256_loadu_ps(x + c), xh = _mm256_loadu_ps(x + c + 8), l, h;
		load16(dt, w0, c, &l, &h); a0 = _mm256_fmadd_ps(l, xl, a0); b0 = _mm256_fmadd_ps(h, xh, b0);
		load16(dt, w1, c, &l, &h); a1 = _mm256_fmadd_ps(l, xl, a1); b1 = _mm256_fmadd_ps(h, xh, b1);
		load16(dt, w2, c, &l, &h); a2 = _mm256_fmadd_ps(l, xl, a2); b2 = _mm256_fmadd_ps(h, xh, b2);
		load16(dt, w3, c, &l, &h); a3 = _mm256_fmadd_ps(l, xl, a3); b3 = _mm256_fmadd_ps(h, xh, b3);
	}
	float s0 = hsum(_mm256_add_ps(a0, b0)), s1 = hsum(_mm256_add_ps(a1, b1));
	float s2 = hsum(_mm256_add_ps(a2, b2)), s3 = hsum(_mm256_add_ps(a3, b3));
	for (int c = full; c < cols; c++) {
		float xv = x[c];
		s0 += wtail(dt, w0, c) * xv; s1 += wtail(dt, w1, c) * xv;
		s2 += wtail(dt, w2, c) * xv; s3 += wtail(dt, w3, c) * xv;
	}
	o[0] = s0; o[1] = s1; o[2] = s2; o[3] = s3;
}

// k1x1: one row against one token (decode, and row and token remainders).
INLINE AVX2 float k1x1(const int dt, const char *w, int cols, const float *x) {
	__m256 a = _mm256_setzero_ps(), b = a, l, h;
	int full = cols / 16 * 16;
	const int es = dt == 0 ? 4 : 2;
	for (int c = 0; c < full; c += 16) {
		if (c * es % 64 == 0) _mm_prefetch(w + (size_t)c * es + PF_DIST, _MM_HINT_T1); // see kernels_avx512.h
		load16(dt, w, c, &l, &h);
		a = _mm256_fmadd_ps(l, _mm256_loadu_ps(x + c), a);
		b = _mm256_fmadd_ps(h, _mm256_loadu_ps(x + c + 8), b);
	}
	float s = hsum(_mm256_add_ps(a, b));
	for (int c = full; c < cols; c++) s += wtail(dt, w, c) * x[c];
	return s;
}

// k4x3: four rows against three tokens (prefill): each widened weight
// vector feeds three FMAs; 12 accumulators fit the 16 ymm registers.
INLINE AVX2 void k4x3(const int dt, const char *w, size_t rb, int cols, const float *x, float *o, int ldo) {
	const float *x0 = x, *x1 = x + cols, *x2 = x + 2 * (size_t)cols;
	__m256 acc[4][3];
	for (int i = 0; i < 4; i++)
		for (int t = 0; t < 3; t++) acc[i][t] = _mm256_setzero_ps();
	int full = cols / 16 * 16;
	for (int c = 0; c < full; c += 16) {
		for (int i = 0; i < 4; i++) {
			__m256 l, h;
			load16(dt, w + i * rb, c, &l, &h);
			acc[i][0] = _mm256_fmadd_ps(l, _mm256_loadu_ps(x0 + c), acc[i][0]);
			acc[i][1] = _mm256_fmadd_ps(l, _mm256_loadu_ps(x1 + c), acc[i][1]);
			acc[i][2] = _mm256_fmadd_ps(l, _mm256_loadu_ps(x2 + c), acc[i][2]);
			acc[i][0] = _mm256_fmadd_ps(h, _mm256_loadu_ps(x0 + c + 8), acc[i][0]);
			acc[i][1] = _mm256_fmadd_ps(h, _mm256_loadu_ps(x1 + c + 8), acc[i][1]);
			acc[i][2] = _mm256_fmadd_ps(h, _mm256_loadu_ps(x2 + c + 8), acc[i][2]);
		}
	}
	for (int i = 0; i < 4; i++) {
		const char *row = w + i * rb;
		for (int t = 0; t < 3; t++) {
			const float *xt = x + (size_t)t * cols;
			float s = hsum(acc[i][t]);
			for (int c = full; c < cols; c++) s += wtail(dt, row, c) * xt[c];
			o[(size_t)t * ldo + i] = s;
		}
	}
}

// Token blocks keep the activations of a block in L2 while a chunk of rows
// is swept over them.
INLINE AVX2 void matmul_avx2_dt(const int dt, const void *w, int cols, const float *x, int n,
                                float *out, int ldo, int r0, int r1) {
	size_t rb = (size_t)cols * (dt == 0 ? 4 : 2);
	int tb = (int)((256u << 10) / ((size_t)cols * 4)) / 3 * 3;
	if (tb < 3) tb = 3;
	for (int t0 = 0; t0 < n; t0 += tb) {
		int t1 = t0 + tb < n ? t0 + tb : n;
		// Fewer than a tile of tokens (decode): one row at a time, as in
		// kernels_avx512.h.
		int r = r0;
		for (; n >= 3 && r + 4 <= r1; r += 4) {
			const char *wr = (const char *)w + (size_t)r * rb;
			int t = t0;
			for (; t + 3 <= t1; t += 3) k4x3(dt, wr, rb, cols, x + (size_t)t * cols, out + (size_t)t * ldo + r, ldo);
			for (; t < t1; t++) k4x1(dt, wr, rb, cols, x + (size_t)t * cols, out + (size_t)t * ldo + r);
		}
		for (; r < r1; r++) {
			const char *wr = (const char *)w + (size_t)r * rb;
			for (int t = t0; t < t1; t++) out[(size_t)t * ldo + r] = k1x1(dt, wr, cols, x + (size_t)t * cols);
		}
	}
}

static AVX2 void matmul_avx2(int dtype, const void *w, int cols, const float *x, int n,
                             float *out, int ldo, int r0, int r1) {
	switch (dtype) {
	case 0: matmul_avx2_dt(0, w, cols, x, n, out, ldo, r0, r1); break;
	case 1: matmul_avx2_dt(1, w, cols, x, n, out, ldo, r0, r1); break;
	default: matmul_avx2_dt(2, w, cols, x, n, out, ldo, r0, r1); break;
	}
}

static AVX2 uint64_t stream_sum_avx2(const void *p, size_t n) {
	const __m256i *q = p;
	__m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
	size_t i = 0, v = n / 32;
	for (; i + 4 <= v; i += 4) {
		s0 = _mm256_add_epi64(s0, _mm256_loadu_si256(q + i));
		s1 = _mm256_add_epi64(s1, _mm256_loadu_si256(q + i + 1));
		s2 = _mm256_add_epi64(s2, _mm256_loadu_si256(q + i + 2));
		s3 = _mm256_add_epi64(s3, _mm256_loadu_si256(q + i + 3));
	}
	for (; i < v; i++) s0 = _mm256_add_epi64(s0, _mm256_loadu_si256(q + i));
	__m256i s = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
	uint64_t r[4];
	_mm256_storeu_si256((__m256i *)r, s);
	uint64_t t = r[0] + r[1] + r[2] + r[3];
	return t + stream_sum_scalar((const char *)p + v * 32, n - v * 32);
}

// silu8: silu of 8 lanes, as swiglu_scalar in kernels.c.
INLINE AVX2 __m256 silu8(__m256 g) {
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 na = _mm256_max_ps(_mm256_or_ps(g, sign), _mm256_set1_ps(-SILU_CAP)); // NaN: the cap
	__m256 nf = _mm256_round_ps(_mm256_mul_ps(na, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(LN2_HI), na);
	r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(LN2_LO), r);
	__m256 p = _mm256_fmadd_ps(_mm256_set1_ps(EXP_C7), r, _mm256_set1_ps(EXP_C6));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_C5));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_C4));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_C3));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_C2));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1));
	// 2^n in two normal halves (n ≥ -174): the first product is exact.
	__m256i k = _mm256_cvtps_epi32(nf), k1 = _mm256_srai_epi32(k, 1), bias = _mm256_set1_epi32(127);
	__m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
	__m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(k, k1), bias), 23));
	__m256 t = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
	__m256 neg = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(na, p), s1), s2);
	__m256 num = _mm256_blendv_ps(g, neg, _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_LT_OQ));
	return _mm256_div_ps(num, _mm256_add_ps(t, _mm256_set1_ps(1)));
}

static AVX2 void swiglu_avx2(float *gate, const float *up, size_t n) {
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(gate + i, _mm256_mul_ps(silu8(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
	if (i < n) { // the tail through the same lanes, masked
		__m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
		__m256 g = _mm256_maskload_ps(gate + i, m), u = _mm256_maskload_ps(up + i, m);
		_mm256_maskstore_ps(gate + i, m, _mm256_mul_ps(silu8(g), u));
	}
}
