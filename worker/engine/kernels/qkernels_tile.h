// AVX2 prefill tiles, included by qkernels.c after the AVX2 copy of
// qkernels_avx.h (VNNI has the 512-bit ones of qkernels_zmm.h): one or
// two weight rows × 4 tokens per call, so an unpacked weight block feeds
// every token. Row i is w + i·rb, token k is x + k·xs; result (i, k) goes to
// o[k·ldo + i].
//
// Float order: tiles and the one-token dot_* kernels sum the same exact
// integers per block, then round differently: the K-quant tiles reduce a
// (row, token)'s block sum to one integer and scale it with one fma into
// one float lane (dot_* scales 8 lanes and sums them at the end); the
// Q8_0/Q4_0 tiles keep one 8-lane accumulator where dot_32 alternates two.
#define QT_TOKS 4

// red8: the exact sums of v[0..7]'s 8 int32 lanes, as [v0 v1 v2 v3 | v4 v5 v6 v7].
INLINE QTARGET __m256i QF(red8)(const __m256i *v) {
	__m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
	__m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
	return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

// The K-quant tiles: 2 rows × 4 tokens per token group, NG groups; per
// block each (row i, token k) pair's integer sum lands in lane 4i+k of one
// vector (red8), and the block's float step is one fma per lane. tile1
// (one row) passes rb 0 and keeps row 0.
// Per group g and row i: scale vectors [row 0 ×4 | row 1 ×4] and token
// vectors [tokens 0..3 | tokens 0..3].
INLINE QTARGET __m256 QF(rowvec)(float r0, float r1) { return _mm256_set_m128(_mm_set1_ps(r1), _mm_set1_ps(r0)); }
INLINE QTARGET __m256 QF(tokvec)(const uint8_t *x, size_t xs) {
	__m128 t = _mm_setr_ps(f32at(x), f32at(x + xs), f32at(x + 2 * xs), f32at(x + 3 * xs));
	return _mm256_set_m128(t, t);
}

// Stores lanes 4i+k of v to o[k·ldo + i] for i < nr.
INLINE QTARGET void QF(store8)(__m256 v, float *o, size_t ldo, const int nr) {
	float f[8];
	_mm256_storeu_ps(f, v);
	for (int i = 0; i < nr; i++)
		for (int k = 0; k < 4; k++) o[k * ldo + i] = f[4 * i + k];
}

// q4_K (five 0) / q5_K (five 1): per 64 values of a block, low then high
// nibbles under their 6-bit scales; maddubs pairs then a 16-bit multiply
// by the scale (dpwssd with VNNI). The min term: Σ_j m_j·(bsum_2j +
// bsum_2j+1) as one madd per row and token pair.
INLINE QTARGET void QF(tile_k45)(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o,
                                 size_t ldo, const int NG, const int nr, const int five) {
	__m256 acc[2], accm[2];
	for (int g = 0; g < NG; g++) acc[g] = accm[g] = _mm256_setzero_ps();
	const int wb = five ? 176 : 144;
	for (int b = 0; b < nb; b++, w += wb, x += 292) {
		uint32_t u[2][4];
		__m256i hb[2], m16[2], sumi[2][8];
		for (int i = 0; i < 2; i++) {
			QF(kscales)(w + i * rb + 4, u[i]);
			hb[i] = five ? _mm256_loadu_si256((const __m256i *)(w + i * rb + 16)) : _mm256_setzero_si256();
			// mins as [m0..m3 m0..m3 | m4..m7 m4..m7], matching hadd_epi16 of two tokens' bsums
			m16[i] = _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[i][3], (int)u[i][3], (int)u[i][2], (int)u[i][2]));
		}
		for (int g = 0; g < NG; g++)
			for (int p = 0; p < 8; p++) sumi[g][p] = _mm256_setzero_si256();
		for (int j = 0; j < 4; j++) {
			__m256i lo[2], hi[2], sl[2], sh[2];
			for (int i = 0; i < 2; i++) {
				const uint8_t *sc = (const uint8_t *)u[i];
				QF(k45unpack)(w + i * rb + (five ? 48 : 16) + 32 * j, hb[i], j, five, &lo[i], &hi[i]);
				sl[i] = _mm256_set1_epi16(sc[2 * j]);
				sh[i] = _mm256_set1_epi16(sc[2 * j + 1]);
			}
			for (int k = 0; k < 4 * NG; k++) {
				const uint8_t *q8 = x + k * xs + 4 + 64 * j;
				__m256i y0 = _mm256_loadu_si256((const __m256i *)q8), y1 = _mm256_loadu_si256((const __m256i *)(q8 + 32));
				for (int i = 0; i < 2; i++) {
					__m256i *s = &sumi[k / 4][4 * i + k % 4];
					*s = QF(dot_ss16)(*s, _mm256_maddubs_epi16(lo[i], y0), sl[i]);
					*s = QF(dot_ss16)(*s, _mm256_maddubs_epi16(hi[i], y1), sh[i]);
				}
			}
		}
		__m256 d = QF(rowvec)(QF(h16)(w), QF(h16)(w + rb)), dmin = QF(rowvec)(QF(h16)(w + 2), QF(h16)(w + rb + 2));
		for (int g = 0; g < NG; g++) {
			const uint8_t *xg = x + 4 * g * xs;
			__m256i ms[4];
			for (int h = 0; h < 2; h++) {
				__m256i bs = _mm256_hadd_epi16(_mm256_loadu_si256((const __m256i *)(xg + 2 * h * xs + 260)),
				                               _mm256_loadu_si256((const __m256i *)(xg + (2 * h + 1) * xs + 260)));
				for (int i = 0; i < 2; i++) ms[2 * i + h] = _mm256_madd_epi16(m16[i], bs);
			}
			__m256i r0 = _mm256_hadd_epi32(ms[0], ms[1]), r1 = _mm256_hadd_epi32(ms[2], ms[3]);
			__m256i m = _mm256_add_epi32(_mm256_permute2x128_si256(r0, r1, 0x20), _mm256_permute2x128_si256(r0, r1, 0x31));
			__m256 xd = QF(tokvec)(xg, xs);
			acc[g] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(QF(red8)(sumi[g])), _mm256_mul_ps(xd, d), acc[g]);
			accm[g] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(m), _mm256_mul_ps(xd, dmin), accm[g]);
		}
	}
	for (int g = 0; g < NG; g++) QF(store8)(_mm256_add_ps(acc[g], accm[g]), o + 4 * g * ldo, ldo, nr);
}

// q6_K: maddubs of the 6-bit values 0..63, the -32 offset through the
// block sums (q6negsc) as the accumulator's start.
INLINE QTARGET void QF(tile_q6)(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o,
                                size_t ldo, const int NG, const int nr) {
	__m256 acc[2];
	for (int g = 0; g < NG; g++) acc[g] = _mm256_setzero_ps();
	for (int b = 0; b < nb; b++, w += 210, x += 292) {
		__m256i sumi[2][8];
		for (int i = 0; i < 2; i++) {
			__m256i ns = QF(q6negsc)(w + i * rb);
			for (int k = 0; k < 4 * NG; k++)
				sumi[k / 4][4 * i + k % 4] = _mm256_madd_epi16(ns, _mm256_loadu_si256((const __m256i *)(x + k * xs + 260)));
		}
		for (int h = 0; h < 2; h++) {
			__m256i q[2][4];
			for (int i = 0; i < 2; i++) QF(q6unpack)(w + i * rb + 64 * h, w + i * rb + 128 + 32 * h, q[i]);
			for (int c = 0; c < 4; c++) {
				__m256i s[2];
				for (int i = 0; i < 2; i++) {
					const int8_t *sc = (const int8_t *)w + i * rb + 192 + 8 * h;
					s[i] = _mm256_set_m128i(_mm_set1_epi16(sc[2 * c + 1]), _mm_set1_epi16(sc[2 * c]));
				}
				for (int k = 0; k < 4 * NG; k++) {
					__m256i y = _mm256_loadu_si256((const __m256i *)(x + k * xs + 4 + 128 * h + 32 * c));
					for (int i = 0; i < 2; i++) {
						__m256i *p = &sumi[k / 4][4 * i + k % 4];
						*p = QF(dot_ss16)(*p, _mm256_maddubs_epi16(q[i][c], y), s[i]);
					}
				}
			}
		}
		__m256 d = QF(rowvec)(QF(h16)(w + 208), QF(h16)(w + rb + 208));
		for (int g = 0; g < NG; g++)
			acc[g] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(QF(red8)(sumi[g])), _mm256_mul_ps(QF(tokvec)(x + 4 * g * xs, xs), d), acc[g]);
	}
	for (int g = 0; g < NG; g++) QF(store8)(acc[g], o + 4 * g * ldo, ldo, nr);
}

// q8_0 / q4_0 / q5_0 (kind, Q32_*) × q8_0, one row × 4 tokens: the
// sign trick of dot_32 (|w| · sign(x, w)), one accumulator per token.
INLINE QTARGET void QF(tile_32)(int nb, const uint8_t *w, const uint8_t *x, size_t xs, float *o, size_t ldo, const int kind) {
	__m256 acc[QT_TOKS];
	for (int k = 0; k < QT_TOKS; k++) acc[k] = _mm256_setzero_ps();
	const int wb = Q32_BYTES(kind);
	const __m256i z = _mm256_setzero_si256();
	for (int b = 0; b < nb; b++, w += wb, x += 34) {
		__m256i wv = QF(w32)(w, kind), aw = _mm256_sign_epi8(wv, wv);
		for (int k = 0; k < QT_TOKS; k++) {
			__m256i p = QF(dot_us8)(z, aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(x + k * xs + 2)), wv));
			__m256 s = _mm256_set1_ps(QF(h16)(w) * QF(h16)(x + k * xs));
			acc[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), s, acc[k]);
		}
	}
	for (int k = 0; k < QT_TOKS; k++) o[k * ldo] = QF(hsum8)(acc[k]);
}

#define QT_DEF(name, call)                                                                                      \
	static QTARGET void QF(tile_##name)(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, \
	                                    size_t ldo) { call(nb, w, rb, x, xs, o, ldo, 0); }                      \
	static QTARGET void QF(tile1_##name)(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, \
	                                     size_t ldo) { call(nb, w, rb, x, xs, o, ldo, 1); }
// one: the one-row variant (the K-quants' 2-row body with rb 0, row 0 kept).
#define QT_Q8(nb, w, rb, x, xs, o, ldo, one) QF(tile_32)(nb, w, x, xs, o, ldo, Q32_Q8_0)
#define QT_Q4(nb, w, rb, x, xs, o, ldo, one) QF(tile_32)(nb, w, x, xs, o, ldo, Q32_Q4_0)
#define QT_Q5(nb, w, rb, x, xs, o, ldo, one) QF(tile_32)(nb, w, x, xs, o, ldo, Q32_Q5_0)
#define QT_K4(nb, w, rb, x, xs, o, ldo, one) QF(tile_k45)(nb, w, one ? 0 : rb, x, xs, o, ldo, 1, one ? 1 : 2, 0)
#define QT_K5(nb, w, rb, x, xs, o, ldo, one) QF(tile_k45)(nb, w, one ? 0 : rb, x, xs, o, ldo, 1, one ? 1 : 2, 1)
#define QT_K6(nb, w, rb, x, xs, o, ldo, one) QF(tile_q6)(nb, w, one ? 0 : rb, x, xs, o, ldo, 1, one ? 1 : 2)
QT_DEF(q8_0, QT_Q8)
QT_DEF(q4_0, QT_Q4)
QT_DEF(q5_0, QT_Q5)
QT_DEF(q4_K, QT_K4)
QT_DEF(q5_K, QT_K5)
QT_DEF(q6_K, QT_K6)

static const struct qkern QF(qkern)[QTYPES] = {
    {QF(dot_q8_0), QF(tile_q8_0), QF(tile1_q8_0), 1, 4, NULL}, {QF(dot_q4_0), QF(tile_q4_0), QF(tile1_q4_0), 1, 4, NULL},
    {QF(dot_q4_K), QF(tile_q4_K), QF(tile1_q4_K), 2, 4, NULL}, {QF(dot_q5_K), QF(tile_q5_K), QF(tile1_q5_K), 2, 4, NULL},
    {QF(dot_q6_K), QF(tile_q6_K), QF(tile1_q6_K), 2, 4, NULL}, {QF(dot_q5_0), QF(tile_q5_0), QF(tile1_q5_0), 1, 4, NULL},
};

#undef QT_DEF
#undef QT_Q8
#undef QT_Q5
#undef QT_Q4
#undef QT_K4
#undef QT_K5
#undef QT_K6
