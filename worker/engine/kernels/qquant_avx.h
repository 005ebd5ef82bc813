// Activation quantizers of rb_quantize_acts (qkernels.c) for AVX-512
// (F+BW) and AVX2; only called after a run-time CPU check. They write the
// bytes of the portable C and of quant.go's quantizeActs: the same float
// products, and per element
//   - nearbyintf (Q8_0 and Q8_K): cvtps2dq in the default (ties-to-even)
//     mode;
//   - bytes as the low 8 bits of the int32, as the scalar casts, never
//     saturated: a NaN or ±inf product converts to 0x80000000 and gives 0
//     there and here;
//   - the max skips NaNs (vmaxps returns its second operand if either is
//     NaN, so the running max goes second), and Q8_K's is the first value
//     of the largest magnitude, as the scalar loop's strict >;
//   - the f16 scale by vcvtps2ph, which equals f32_f16 for every non-NaN
//     float (checked for all 2^32; the scale is never NaN).

#define QA512 __attribute__((target("avx512f,avx512bw,f16c")))
#define QA256 __attribute__((target("avx2,fma,f16c")))

static QA512 void quant_q8_0_avx512(const float *x, int nb, uint8_t *o) {
	for (int b = 0; b < nb; b++, x += 32, o += 34) {
		__m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
		__m512 m = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_setzero_ps());
		float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v1), m));
		float d = amax / 127, id = amax != 0 ? 127 / amax : 0;
		uint16_t h = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
		memcpy(o, &h, 2);
		__m512 vid = _mm512_set1_ps(id);
		_mm_storeu_si128((__m128i *)(o + 2), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, vid))));
		_mm_storeu_si128((__m128i *)(o + 18), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, vid))));
	}
}

// q8k16: 16 values of a Q8_K block as bytes.
INLINE QA512 __m128i q8k16(const float *x, __m512 is) {
	__m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x), is));
	return _mm512_cvtepi32_epi8(_mm512_min_epi32(q, _mm512_set1_epi32(127)));
}

// Group sums: bytes ^ 0x80 are the values + 128, so one sad against zero
// per 64 bytes gives two partial sums per group of 16, less 8·128 each.
static QA512 void quant_q8_K_avx512(const float *x, int nb, uint8_t *o) {
	const __m512i flip = _mm512_set1_epi8((char)0x80), even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
	const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), bias = _mm512_set1_epi64(16 * 128);
	for (int b = 0; b < nb; b++, x += 256, o += 292) {
		__m512 m[4];
		for (int i = 0; i < 4; i++) m[i] = _mm512_setzero_ps();
		for (int i = 0; i < 16; i++) m[i % 4] = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * i)), m[i % 4]);
		float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m[0], m[1]), _mm512_max_ps(m[2], m[3])));
		if (amax == 0) {
			memset(o, 0, 292);
			continue;
		}
		int j = 0; // amax is one of the 256 magnitudes: the search ends
		for (__m512 va = _mm512_set1_ps(amax);; j += 16) {
			__mmask16 e = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)), va, _CMP_EQ_OQ);
			if (e) {
				j += __builtin_ctz(e);
				break;
			}
		}
		float is = -127 / x[j], d = 1 / is;
		memcpy(o, &d, 4);
		__m512 vis = _mm512_set1_ps(is);
		__m512i p[4];
		for (int k = 0; k < 4; k++) {
			const float *xk = x + 64 * k;
			__m512i v = _mm512_castsi128_si512(q8k16(xk, vis));
			v = _mm512_inserti32x4(v, q8k16(xk + 16, vis), 1);
			v = _mm512_inserti32x4(v, q8k16(xk + 32, vis), 2);
			v = _mm512_inserti32x4(v, q8k16(xk + 48, vis), 3);
			_mm512_storeu_si512(o + 4 + 64 * k, v);
			p[k] = _mm512_sad_epu8(_mm512_xor_si512(v, flip), _mm512_setzero_si512());
		}
		for (int k = 0; k < 2; k++) {
			__m512i s = _mm512_add_epi64(_mm512_permutex2var_epi64(p[2 * k], even, p[2 * k + 1]),
			                             _mm512_permutex2var_epi64(p[2 * k], odd, p[2 * k + 1]));
			_mm_storeu_si128((__m128i *)(o + 260 + 16 * k), _mm512_cvtepi64_epi16(_mm512_sub_epi64(s, bias)));
		}
	}
}

INLINE QA256 __m256 abs8(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

INLINE QA256 float hmax8(__m256 v) {
	__m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	m = _mm_max_ps(m, _mm_movehl_ps(m, m));
	return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// bytes32: the low bytes of a, b, c, d's int32 lanes, in order (masked to
// 0..255 so the saturating packs keep them).
INLINE QA256 __m256i bytes32(__m256i a, __m256i b, __m256i c, __m256i d) {
	const __m256i lo = _mm256_set1_epi32(0xff);
	__m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, lo), _mm256_and_si256(b, lo));
	__m256i cd = _mm256_packus_epi32(_mm256_and_si256(c, lo), _mm256_and_si256(d, lo));
	return _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static QA256 void quant_q8_0_avx2(const float *x, int nb, uint8_t *o) {
	for (int b = 0; b < nb; b++, x += 32, o += 34) {
		__m256 v[4], m = _mm256_setzero_ps();
		for (int i = 0; i < 4; i++) {
			v[i] = _mm256_loadu_ps(x + 8 * i);
			m = _mm256_max_ps(abs8(v[i]), m);
		}
		float amax = hmax8(m);
		float d = amax / 127, id = amax != 0 ? 127 / amax : 0;
		uint16_t h = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
		memcpy(o, &h, 2);
		__m256 vid = _mm256_set1_ps(id);
		__m256i q[4];
		for (int i = 0; i < 4; i++) q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], vid));
		_mm256_storeu_si256((__m256i *)(o + 2), bytes32(q[0], q[1], q[2], q[3]));
	}
}

INLINE QA256 __m256i q8k8(const float *x, __m256 is) {
	__m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), is));
	return _mm256_min_epi32(q, _mm256_set1_epi32(127));
}

// Group sums as in quant_q8_K_avx512, 32 bytes (two groups) per sad.
static QA256 void quant_q8_K_avx2(const float *x, int nb, uint8_t *o) {
	const __m256i flip = _mm256_set1_epi8((char)0x80), bias = _mm256_set1_epi32(16 * 128);
	for (int b = 0; b < nb; b++, x += 256, o += 292) {
		__m256 m[4];
		for (int i = 0; i < 4; i++) m[i] = _mm256_setzero_ps();
		for (int i = 0; i < 32; i++) m[i % 4] = _mm256_max_ps(abs8(_mm256_loadu_ps(x + 8 * i)), m[i % 4]);
		float amax = hmax8(_mm256_max_ps(_mm256_max_ps(m[0], m[1]), _mm256_max_ps(m[2], m[3])));
		if (amax == 0) {
			memset(o, 0, 292);
			continue;
		}
		int j = 0; // as in quant_q8_K_avx512
		for (__m256 va = _mm256_set1_ps(amax);; j += 8) {
			int e = _mm256_movemask_ps(_mm256_cmp_ps(abs8(_mm256_loadu_ps(x + j)), va, _CMP_EQ_OQ));
			if (e) {
				j += __builtin_ctz(e);
				break;
			}
		}
		float is = -127 / x[j], d = 1 / is;
		memcpy(o, &d, 4);
		__m256 vis = _mm256_set1_ps(is);
		// h[c]: 64-bit lanes 0 and 2 hold the biased sums of groups 2c, 2c+1.
		__m256i h[8];
		for (int c = 0; c < 8; c++) {
			const float *xc = x + 32 * c;
			__m256i v = bytes32(q8k8(xc, vis), q8k8(xc + 8, vis), q8k8(xc + 16, vis), q8k8(xc + 24, vis));
			_mm256_storeu_si256((__m256i *)(o + 4 + 32 * c), v);
			__m256i p = _mm256_sad_epu8(_mm256_xor_si256(v, flip), _mm256_setzero_si256());
			h[c] = _mm256_add_epi64(p, _mm256_bsrli_epi128(p, 8));
		}
		// To 16 int16 in order: sums are < 2^12, so two share a 64-bit lane.
		__m256i u0 = _mm256_unpacklo_epi64(h[0], h[1]), u1 = _mm256_unpacklo_epi64(h[2], h[3]); // [g0 g2 | g1 g3], [g4 g6 | g5 g7]
		__m256i u2 = _mm256_unpacklo_epi64(h[4], h[5]), u3 = _mm256_unpacklo_epi64(h[6], h[7]);
		__m256i v0 = _mm256_sub_epi32(_mm256_or_si256(u0, _mm256_slli_epi64(u1, 32)), bias); // [g0 g4 g2 g6 | g1 g5 g3 g7]
		__m256i v1 = _mm256_sub_epi32(_mm256_or_si256(u2, _mm256_slli_epi64(u3, 32)), bias);
		__m256i w = _mm256_packs_epi32(v0, v1); // [g0 g4 g2 g6 g8 g12 g10 g14 | g1 g5 ...]
		__m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
		__m128i a = _mm_unpacklo_epi16(lo, hi), c = _mm_unpackhi_epi16(lo, hi); // [g0 g1 g4 g5 g2 g3 g6 g7], [g8 ...]
		_mm_storeu_si128((__m128i *)(o + 260), _mm_shuffle_epi32(a, _MM_SHUFFLE(3, 1, 2, 0)));
		_mm_storeu_si128((__m128i *)(o + 276), _mm_shuffle_epi32(c, _MM_SHUFFLE(3, 1, 2, 0)));
	}
}
