// 512-bit prefill tiles (AVX-512 VNNI), included by qkernels.c after the
// VNNI copy of qkernels_avx.h: 8 weight rows × up to 8 tokens, a row per
// 128-bit lane. Each row's 16 bytes are inserted into their own lane and
// each token's 16 activation bytes broadcast to all four, so one dpbusd
// serves four rows, every lane holds one row's partial sums, and a block's
// scales are a vector over rows times one token's scale: no horizontal
// sums per block (those were most of the 256-bit tiles' work), four lanes
// per row summed once at the end. This gets ggml's repacked-tile layout
// from the rows as mapped, without a second copy of the weights.
#define QZ_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#define QZ_ROWS 8
#define QZ_TOKS 8

INLINE QZ_TARGET float qz_h16(const uint8_t *p) { return _cvtsh_ss((unsigned short)i16at(p)); }

// Four rows' 16 bytes at p, p+rb, p+2rb, p+3rb, one per 128-bit lane.
INLINE QZ_TARGET __m512i qz_rows4(const uint8_t *p, size_t rb) {
	__m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p));
	v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + rb)), 1);
	v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 2 * rb)), 2);
	return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 3 * rb)), 3);
}

// 16 bytes broadcast to the four lanes.
INLINE QZ_TARGET __m512i qz_bcast(const uint8_t *p) { return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)p)); }

// The fp16 at p + i·rb for rows i < 8, as floats: [rows 0..3 ×4 each] in
// r[0] and [rows 4..7] in r[1], a row's value in all four lanes of its lane group.
INLINE QZ_TARGET void qz_rowscales(const uint8_t *p, size_t rb, __m512 r[2]) {
	__m128i h = _mm_setr_epi16((short)i16at(p), (short)i16at(p + rb), (short)i16at(p + 2 * rb), (short)i16at(p + 3 * rb),
	                           (short)i16at(p + 4 * rb), (short)i16at(p + 5 * rb), (short)i16at(p + 6 * rb), (short)i16at(p + 7 * rb));
	__m512 v = _mm512_castps256_ps512(_mm256_cvtph_ps(h));
	r[0] = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), v);
	r[1] = _mm512_permutexvar_ps(_mm512_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7), v);
}

// Stores the sums of each lane group of acc[g][k] (row 4g+r, token k) to
// o[k·ldo + 4g + r] for rows < nr (8, or 1 for the one-row form).
INLINE QZ_TARGET void qz_store(__m512 acc[2][QZ_TOKS], float *o, size_t ldo, const int nt, const int nr) {
	const __m512i first = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	for (int k = 0; k < nt; k++)
		for (int g = 0; g < (nr > 4 ? 2 : 1); g++) {
			__m512 a = acc[g][k];
			a = _mm512_add_ps(a, _mm512_permute_ps(a, 0x4e));
			a = _mm512_add_ps(a, _mm512_permute_ps(a, 0xb1));
			__m128 r = _mm512_castps512_ps128(_mm512_permutexvar_ps(first, a));
			if (nr == 1)
				o[k * ldo] = _mm_cvtss_f32(r);
			else
				_mm_storeu_ps(o + k * ldo + 4 * g, r);
		}
}

// q8_0 (four 0) / q4_0 (four 1) × q8_0. Q8_0: weights signed (dpbusd's
// second operand), activations +128 (x ^ 0x80), the accumulator starting at
// -128·Σw; Q4_0: nibbles 0..15 unsigned, activations as they are, starting
// at -8·Σx. Per block, lane group r's four lanes cover values 4d..4d+3
// and 16+4d..16+4d+3 of row r.
INLINE QZ_TARGET void qz_tile_32(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, size_t ldo,
                                 const int nt, const int nr, const int four) {
	__m512 acc[2][QZ_TOKS];
	for (int g = 0; g < 2; g++)
		for (int k = 0; k < nt; k++) acc[g][k] = _mm512_setzero_ps();
	const __m512i c80 = _mm512_set1_epi8((char)0x80), c8 = _mm512_set1_epi8(8), m4 = _mm512_set1_epi8(0xf), z = _mm512_setzero_si512();
	const int wb = four ? 18 : 34, ng = nr > 4 ? 2 : 1;
	for (int b = 0; b < nb; b++, w += wb, x += 34) {
		float dx[QZ_TOKS];
		for (int k = 0; k < nt; k++) dx[k] = qz_h16(x + k * xs);
		__m512 dw[2];
		qz_rowscales(w, rb, dw);
		__m512i W[2][2], bias[2];
		for (int g = 0; g < ng; g++) {
			if (four) {
				__m512i q = qz_rows4(w + 4 * g * rb + 2, rb);
				W[g][0] = _mm512_and_si512(q, m4);
				W[g][1] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
			} else {
				W[g][0] = qz_rows4(w + 4 * g * rb + 2, rb);
				W[g][1] = qz_rows4(w + 4 * g * rb + 18, rb);
				bias[g] = _mm512_sub_epi32(z, _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(z, c80, W[g][0]), c80, W[g][1]));
			}
		}
		for (int k = 0; k < nt; k++) {
			__m512i x0 = qz_bcast(x + k * xs + 2), x1 = qz_bcast(x + k * xs + 18);
			__m512i kb = z;
			if (four)
				kb = _mm512_sub_epi32(z, _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(z, c8, x0), c8, x1));
			else
				x0 = _mm512_xor_si512(x0, c80), x1 = _mm512_xor_si512(x1, c80);
			__m512 dk = _mm512_set1_ps(dx[k]);
			for (int g = 0; g < ng; g++) {
				__m512i p = four ? _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(kb, W[g][0], x0), W[g][1], x1)
				                 : _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias[g], x0, W[g][0]), x1, W[g][1]);
				acc[g][k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw[g], dk), acc[g][k]);
			}
		}
	}
	qz_store(acc, o, ldo, nt, nr);
}

// The entry points: tile (8 rows × 8 tokens), tile1 (one row: rb 0, the
// lanes all read row 0), tail (8 rows or one × nt < 8 tokens, nt a
// constant in each case so the accumulators stay in registers).
#define QZ_CASE(body, n) \
	case n: one ? body(nb, w, 0, x, xs, o, ldo, n, 1) : body(nb, w, rb, x, xs, o, ldo, n, QZ_ROWS); break;
#define QZ_DEF(name, body)                                                                                       \
	static QZ_TARGET void qz_tile_##name(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, \
	                                     size_t ldo) { body(nb, w, rb, x, xs, o, ldo, QZ_TOKS, QZ_ROWS); }         \
	static QZ_TARGET void qz_tile1_##name(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, \
	                                      size_t ldo) { (void)rb; body(nb, w, 0, x, xs, o, ldo, QZ_TOKS, 1); }     \
	static QZ_TARGET void qz_tail_##name(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, \
	                                     size_t ldo, int nt, int one) {                                            \
		switch (nt) { QZ_CASE(body, 1) QZ_CASE(body, 2) QZ_CASE(body, 3) QZ_CASE(body, 4) QZ_CASE(body, 5) QZ_CASE(body, 6) default: QZ_CASE(body, 7) }   \
	}
#define QZ_Q8(nb, w, rb, x, xs, o, ldo, nt, nr) qz_tile_32(nb, w, rb, x, xs, o, ldo, nt, nr, 0)
#define QZ_Q4(nb, w, rb, x, xs, o, ldo, nt, nr) qz_tile_32(nb, w, rb, x, xs, o, ldo, nt, nr, 1)
QZ_DEF(q8_0, QZ_Q8)
QZ_DEF(q4_0, QZ_Q4)
#undef QZ_Q8
#undef QZ_Q4
