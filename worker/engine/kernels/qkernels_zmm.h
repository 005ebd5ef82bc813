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
#define QZ_KROWS 4 // K-quant tiles: a block's unpacked values of 8 rows do not fit the registers

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

// A float per row (f32 of the fp16 at p + r·rb, r < 4) in row r's four lanes.
INLINE QZ_TARGET __m512 qz_rowscale4(const uint8_t *p, size_t rb) {
	__m128 v = _mm_cvtph_ps(_mm_setr_epi16((short)i16at(p), (short)i16at(p + rb), (short)i16at(p + 2 * rb), (short)i16at(p + 3 * rb), 0, 0, 0, 0));
	return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), _mm512_castps128_ps512(v));
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

// q8_0 / q4_0 / q5_0 (kind, Q32_*) × q8_0. Q8_0: weights signed
// (dpbusd's second operand), activations +128 (x ^ 0x80), the accumulator
// starting at -128·Σw; Q4_0: nibbles 0..15 unsigned, activations as they
// are, starting at -8·Σx; Q5_0: nibbles plus their 5th bits (0..31),
// starting at -16·Σx. Per block, lane group r's four lanes cover values
// 4d..4d+3 and 16+4d..16+4d+3 of row r.
INLINE QZ_TARGET void qz_tile_32(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, size_t ldo,
                                 const int nt, const int nr, const int kind) {
	__m512 acc[2][QZ_TOKS];
	for (int g = 0; g < 2; g++)
		for (int k = 0; k < nt; k++) acc[g][k] = _mm512_setzero_ps();
	const __m512i c80 = _mm512_set1_epi8((char)0x80), m4 = _mm512_set1_epi8(0xf), z = _mm512_setzero_si512();
	const __m512i cb = _mm512_set1_epi8(Q32_BIAS(kind)), c16 = _mm512_set1_epi8(16);
	const int wb = Q32_BYTES(kind), ng = nr > 4 ? 2 : 1, qs = Q32_QS(kind);
	for (int b = 0; b < nb; b++, w += wb, x += 34) {
		float dx[QZ_TOKS];
		for (int k = 0; k < nt; k++) dx[k] = qz_h16(x + k * xs);
		__m512 dw[2] = {qz_rowscale4(w, rb), qz_rowscale4(w + 4 * rb, rb)};
		__m512i W[2][2], bias[2];
		for (int g = 0; g < ng; g++) {
			if (kind != Q32_Q8_0) {
				__m512i q = qz_rows4(w + 4 * g * rb + qs, rb);
				W[g][0] = _mm512_and_si512(q, m4);
				W[g][1] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
				if (kind == Q32_Q5_0) { // the 5th bits: row r's qh bits j and 16+j to byte j of lane r
					uint64_t lo = 0, hi = 0;
					for (int r = 0; r < 4; r++) {
						uint32_t h;
						memcpy(&h, w + (4 * g + r) * rb + 2, 4);
						lo |= (uint64_t)(h & 0xffff) << (16 * r), hi |= (uint64_t)(h >> 16) << (16 * r);
					}
					W[g][0] = _mm512_or_si512(W[g][0], _mm512_maskz_mov_epi8(lo, c16));
					W[g][1] = _mm512_or_si512(W[g][1], _mm512_maskz_mov_epi8(hi, c16));
				}
			} else {
				W[g][0] = qz_rows4(w + 4 * g * rb + 2, rb);
				W[g][1] = qz_rows4(w + 4 * g * rb + 18, rb);
				bias[g] = _mm512_sub_epi32(z, _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(z, c80, W[g][0]), c80, W[g][1]));
			}
		}
		for (int k = 0; k < nt; k++) {
			__m512i x0 = qz_bcast(x + k * xs + 2), x1 = qz_bcast(x + k * xs + 18);
			__m512i kb = z;
			if (kind != Q32_Q8_0)
				kb = _mm512_sub_epi32(z, _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(z, cb, x0), cb, x1));
			else
				x0 = _mm512_xor_si512(x0, c80), x1 = _mm512_xor_si512(x1, c80);
			__m512 dk = _mm512_set1_ps(dx[k]);
			for (int g = 0; g < ng; g++) {
				__m512i p = kind != Q32_Q8_0 ? _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(kb, W[g][0], x0), W[g][1], x1)
				                 : _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias[g], x0, W[g][0]), x1, W[g][1]);
				acc[g][k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw[g], dk), acc[g][k]);
			}
		}
	}
	qz_store(acc, o, ldo, nt, nr);
}

// In each lane group, the int16 at position j of v, in all eight
// positions (v's lane group r holds row r's eight values).
INLINE QZ_TARGET __m512i qz_pick16(__m512i v, const int j) {
	return _mm512_shuffle_epi8(v, _mm512_set1_epi16((short)((2 * j) | (2 * j + 1) << 8)));
}

// Four rows' 8 bytes at p, p+rb, ... as int16, row r's in lane group r.
INLINE QZ_TARGET __m512i qz_bytes16(const uint8_t *p, size_t rb, const int sgn) {
	uint64_t v[4];
	for (int r = 0; r < 4; r++) memcpy(&v[r], p + r * rb, 8);
	__m256i b = _mm256_setr_epi64x((long long)v[0], (long long)v[1], (long long)v[2], (long long)v[3]);
	return sgn ? _mm512_cvtepi8_epi16(b) : _mm512_cvtepu8_epi16(b);
}

// A Q8_K block's 16 bsums summed in pairs (8 int16, one per 32 values) in
// every lane group.
INLINE QZ_TARGET __m512i qz_bsum_pairs(const uint8_t *x) {
	return _mm512_broadcast_i32x4(_mm_hadd_epi16(_mm_loadu_si128((const __m128i *)(x + 260)), _mm_loadu_si128((const __m128i *)(x + 276))));
}

// q4_K (five 0) / q5_K (five 1) × q8_K, 4 rows (a lane group each) × nt
// tokens. Per 32 values j: maddubs of the two 16-value halves, summed
// (|·| ≤ 4·31·127 fits int16), times the row's 6-bit scale with dpwssd;
// the mins as one dpwssd of the row's 8 mins with the token's pair-summed
// bsums. Both sums are exact integers per lane, scaled once per block.
INLINE QZ_TARGET void qz_tile_k45(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, size_t ldo,
                                  const int nt, const int nr, const int five) {
	__m512 acc[2][QZ_TOKS];
	for (int k = 0; k < nt; k++) acc[0][k] = _mm512_setzero_ps();
	const __m512i m4 = _mm512_set1_epi8(0xf), one = _mm512_set1_epi8(1), z = _mm512_setzero_si512();
	const int wb = five ? 176 : 144;
	for (int b = 0; b < nb; b++, w += wb, x += 292) {
		uint32_t scm[4][4]; // row r: 8 scales, 8 mins
		for (int r = 0; r < 4; r++) kscales_vnni(w + r * rb + 4, scm[r]);
		__m512i S = qz_bytes16((const uint8_t *)scm, 16, 0), M = qz_bytes16((const uint8_t *)scm + 8, 16, 0);
		__m512i sumi[QZ_TOKS];
		for (int k = 0; k < nt; k++) sumi[k] = z;
		__m512i qh[2];
		if (five) qh[0] = qz_rows4(w + 16, rb), qh[1] = qz_rows4(w + 32, rb);
		for (int jp = 0; jp < 4; jp++) {
			__m512i W[2][2]; // [sub-block 2jp + s][half]
			for (int h = 0; h < 2; h++) {
				__m512i q = qz_rows4(w + (five ? 48 : 16) + 32 * jp + 16 * h, rb);
				W[0][h] = _mm512_and_si512(q, m4);
				W[1][h] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
				if (five)
					for (int s = 0; s < 2; s++)
						W[s][h] = _mm512_or_si512(W[s][h], _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh[h], 2 * jp + s), one), 4));
			}
			__m512i sc[2] = {qz_pick16(S, 2 * jp), qz_pick16(S, 2 * jp + 1)};
			for (int k = 0; k < nt; k++) {
				const uint8_t *q8 = x + k * xs + 4 + 64 * jp;
				for (int s = 0; s < 2; s++) {
					__m512i p = _mm512_add_epi16(_mm512_maddubs_epi16(W[s][0], qz_bcast(q8 + 32 * s)),
					                             _mm512_maddubs_epi16(W[s][1], qz_bcast(q8 + 32 * s + 16)));
					sumi[k] = _mm512_dpwssd_epi32(sumi[k], p, sc[s]);
				}
			}
		}
		__m512 d = qz_rowscale4(w, rb), dmin = qz_rowscale4(w + 2, rb);
		for (int k = 0; k < nt; k++) {
			const uint8_t *xk = x + k * xs;
			__m512i mins = _mm512_dpwssd_epi32(z, M, qz_bsum_pairs(xk));
			__m512 dk = _mm512_set1_ps(f32at(xk));
			acc[0][k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[k]), _mm512_mul_ps(d, dk), acc[0][k]);
			acc[0][k] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_mul_ps(dmin, dk), acc[0][k]);
		}
	}
	qz_store(acc, o, ldo, nt, nr);
}

// q6_K × q8_K, 4 rows × nt tokens: values 0..63 (ql nibble | 2 qh bits
// << 4), 16 values per int8 scale; maddubs then dpwssd with the row's
// scale; the -32 offset as -32·Σ_g sc_g·bsum_g, the accumulator's start.
INLINE QZ_TARGET void qz_tile_q6(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, size_t ldo,
                                 const int nt, const int nr) {
	__m512 acc[2][QZ_TOKS];
	for (int k = 0; k < nt; k++) acc[0][k] = _mm512_setzero_ps();
	const __m512i m4 = _mm512_set1_epi8(0xf), m2 = _mm512_set1_epi8(3);
	for (int b = 0; b < nb; b++, w += 210, x += 292) {
		__m512i S[2] = {qz_bytes16(w + 192, rb, 1), qz_bytes16(w + 200, rb, 1)}; // scales 0..7, 8..15
		__m512i N[2] = {_mm512_slli_epi16(S[0], 5), _mm512_slli_epi16(S[1], 5)};
		__m512i sumi[QZ_TOKS];
		for (int k = 0; k < nt; k++) {
			__m512i bl = qz_bcast(x + k * xs + 260), bh = qz_bcast(x + k * xs + 276); // bsums 0..7, 8..15
			sumi[k] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpwssd_epi32(_mm512_madd_epi16(N[0], bl), N[1], bh));
		}
		for (int h = 0; h < 2; h++) {
			// each ql and qh run is loaded once: it holds 2 and 4 runs of values
			__m512i l[4], hb[2];
			for (int i = 0; i < 4; i++) l[i] = qz_rows4(w + 64 * h + 16 * i, rb);
			for (int i = 0; i < 2; i++) hb[i] = qz_rows4(w + 128 + 32 * h + 16 * i, rb);
			for (int c = 0; c < 8; c++) { // 16 values: ql run c%4, nibble c/4; qh run c%2, bits 2(c/2)
				__m512i q = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l[c % 4], 4 * (c / 4)), m4),
				                            _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hb[c % 2], 2 * (c / 2)), m2), 4));
				__m512i sc = qz_pick16(S[h], c);
				for (int k = 0; k < nt; k++)
					sumi[k] = _mm512_dpwssd_epi32(sumi[k], _mm512_maddubs_epi16(q, qz_bcast(x + k * xs + 4 + 128 * h + 16 * c)), sc);
			}
		}
		__m512 d = qz_rowscale4(w + 208, rb);
		for (int k = 0; k < nt; k++)
			acc[0][k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[k]), _mm512_mul_ps(d, _mm512_set1_ps(f32at(x + k * xs))), acc[0][k]);
	}
	qz_store(acc, o, ldo, nt, nr);
}

// The entry points: tile (8 rows × 8 tokens), tile1 (one row: rb 0, the
// lanes all read row 0), tail (8 rows or one × nt < 8 tokens, nt a
// constant in each case so the accumulators stay in registers).
#define QZ_CASE(body, n, ROWS) \
	case n: one ? body(nb, w, 0, x, xs, o, ldo, n, 1) : body(nb, w, rb, x, xs, o, ldo, n, ROWS); break;
#define QZ_DEF(name, body, ROWS)                                                                                       \
	static QZ_TARGET void qz_tile_##name(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, \
	                                     size_t ldo) { body(nb, w, rb, x, xs, o, ldo, QZ_TOKS, ROWS); }         \
	static QZ_TARGET void qz_tile1_##name(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, \
	                                      size_t ldo) { (void)rb; body(nb, w, 0, x, xs, o, ldo, QZ_TOKS, 1); }     \
	static QZ_TARGET void qz_tail_##name(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, float *o, \
	                                     size_t ldo, int nt, int one) {                                            \
		switch (nt) { QZ_CASE(body, 1, ROWS) QZ_CASE(body, 2, ROWS) QZ_CASE(body, 3, ROWS) QZ_CASE(body, 4, ROWS) QZ_CASE(body, 5, ROWS) QZ_CASE(body, 6, ROWS) default: QZ_CASE(body, 7, ROWS) }   \
	}
#define QZ_Q8(nb, w, rb, x, xs, o, ldo, nt, nr) qz_tile_32(nb, w, rb, x, xs, o, ldo, nt, nr, Q32_Q8_0)
#define QZ_Q4(nb, w, rb, x, xs, o, ldo, nt, nr) qz_tile_32(nb, w, rb, x, xs, o, ldo, nt, nr, Q32_Q4_0)
#define QZ_Q5(nb, w, rb, x, xs, o, ldo, nt, nr) qz_tile_32(nb, w, rb, x, xs, o, ldo, nt, nr, Q32_Q5_0)
#define QZ_K4(nb, w, rb, x, xs, o, ldo, nt, nr) qz_tile_k45(nb, w, rb, x, xs, o, ldo, nt, nr, 0)
#define QZ_K5(nb, w, rb, x, xs, o, ldo, nt, nr) qz_tile_k45(nb, w, rb, x, xs, o, ldo, nt, nr, 1)
#define QZ_K6(nb, w, rb, x, xs, o, ldo, nt, nr) qz_tile_q6(nb, w, rb, x, xs, o, ldo, nt, nr)
QZ_DEF(q8_0, QZ_Q8, QZ_ROWS)
QZ_DEF(q4_0, QZ_Q4, QZ_ROWS)
QZ_DEF(q5_0, QZ_Q5, QZ_ROWS)
QZ_DEF(q4_K, QZ_K4, QZ_KROWS)
QZ_DEF(q5_K, QZ_K5, QZ_KROWS)
QZ_DEF(q6_K, QZ_K6, QZ_KROWS)
#undef QZ_Q8
#undef QZ_Q4
#undef QZ_Q5
#undef QZ_K4
#undef QZ_K5
#undef QZ_K6
