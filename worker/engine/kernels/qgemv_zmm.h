// One-token (decode) products of Q8_0, Q4_0 and Q5_0 rows (AVX-512 VNNI), included
// by qkernels.c after qkernels_zmm.h. Decode reads each weight byte once, so
// it runs at memory speed only if a core's work per byte is small and its
// loads are issued far enough ahead. Two things make that so:
//   - the token is prepared once per call, not once per row: its values
//     contiguous (a single aligned load per two blocks), its scales as
//     floats, and -128·Σx (Q8_0, weights made unsigned with ^0x80),
//     -8·Σx (Q4_0) or -16·Σx (Q5_0) over each int32 lane's four values as that lane's
//     start, so every lane ends at its own exact Σw·x (as the dot's
//     lanes do) and no sign fix-up is needed per block;
//   - sixteen weight scales are gathered through general registers and
//     converted at once, then spread to their blocks' lanes by a permute.
// Software prefetch (QPF_L2, QPF_L1 in qkernels.c) runs ahead of the row
// stream.

// gvprep: the token's blocks as qgemv reads them.
struct gvprep {
	int8_t *qs;  // 32 values per block, contiguous
	int32_t *c0; // per block, its 8 lanes' accumulator starts
	float *dx;   // per block, the token's scale
};

// Four f16 at p + i·stride in one word.
INLINE QZ_TARGET uint64_t qg_h4(const uint8_t *p, const int stride) {
	uint64_t v = 0;
	for (int i = 0; i < 4; i++) v |= (uint64_t)(uint16_t)i16at(p + i * stride) << (16 * i);
	return v;
}

// The 16 f16 at p + i·stride as floats, gathered four to a general
// register and converted at once. Built as four separate words: a single
// loop over an array of four compiled to a 7% slower Q8_0 decode.
INLINE QZ_TARGET __m512 qg_f16x16(const uint8_t *p, const int stride) {
	__m128i h01 = _mm_set_epi64x((long long)qg_h4(p + 4 * stride, stride), (long long)qg_h4(p, stride));
	__m128i h23 = _mm_set_epi64x((long long)qg_h4(p + 12 * stride, stride), (long long)qg_h4(p + 8 * stride, stride));
	return _mm512_cvtph_ps(_mm256_set_m128i(h23, h01));
}

// Two blocks' 32 weights at w and w+wb as unsigned bytes, one block per
// 256-bit half: Q8_0 shifted by 128, Q4_0's nibbles (low ones first),
// Q5_0's with their 5th bits (qh's 32 bits per block are byte j's, in
// order, so the two blocks' qh words are the byte mask).
INLINE QZ_TARGET __m512i qg_w2(const uint8_t *w, const int kind) {
	if (kind == Q32_Q8_0) {
		__m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(w + 2))),
		                               _mm256_loadu_si256((const __m256i *)(w + 36)), 1);
		return _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80));
	}
	const int qs = Q32_QS(kind), wb = Q32_BYTES(kind);
	__m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(w + qs)));
	v = _mm512_inserti32x4(v, _mm512_castsi512_si128(v), 1);
	__m128i u = _mm_loadu_si128((const __m128i *)(w + wb + qs));
	v = _mm512_inserti32x4(_mm512_inserti32x4(v, u, 2), u, 3);
	// the high nibbles in the second and fourth 128-bit lanes
	v = _mm512_mask_srli_epi16(v, 0xff00ff00u, v, 4);
	v = _mm512_and_si512(v, _mm512_set1_epi8(0xf));
	if (kind == Q32_Q5_0) {
		uint32_t h0, h1;
		memcpy(&h0, w + 2, 4);
		memcpy(&h1, w + wb + 2, 4);
		v = _mm512_or_si512(v, _mm512_maskz_mov_epi8((uint64_t)h0 | (uint64_t)h1 << 32, _mm512_set1_epi8(0x10)));
	}
	return v;
}

// One block's 32 weights as unsigned bytes (the tail of a row).
INLINE QZ_TARGET __m256i qg_w1(const uint8_t *w, const int kind) {
	if (kind == Q32_Q8_0) return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w + 2)), _mm256_set1_epi8((char)0x80));
	__m128i t = _mm_loadu_si128((const __m128i *)(w + Q32_QS(kind)));
	__m256i v = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0xf));
	if (kind == Q32_Q5_0) {
		uint32_t h;
		memcpy(&h, w + 2, 4);
		v = _mm256_or_si256(v, _mm256_maskz_mov_epi8(h, _mm256_set1_epi8(0x10)));
	}
	return v;
}

// A grab's prologue, so vectorised: each lane's four-value sum is one
// dpbusd against ones (the scalar loops were ~2% of a 1 MiB grab).
static QZ_TARGET void qg_prep(int nb, const uint8_t *x, const int kind, struct gvprep *p) {
	const __m256i ones = _mm256_set1_epi8(1), z = _mm256_setzero_si256();
	const int bias = kind == Q32_Q8_0 ? 128 : Q32_BIAS(kind);
	for (int b = 0; b < nb; b++, x += 34) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(x + 2));
		_mm256_store_si256((__m256i *)(p->qs + 32 * b), v);
		__m256i s4 = _mm256_dpbusd_epi32(z, ones, v);
		_mm256_store_si256((__m256i *)(p->c0 + 8 * b), _mm256_mullo_epi32(s4, _mm256_set1_epi32(-bias)));
		p->dx[b] = qz_h16(x);
	}
}

INLINE QZ_TARGET float qg_row(int nb, const uint8_t *w, const struct gvprep *p, const int kind) {
	const int wb = Q32_BYTES(kind);
	const int8_t *q = p->qs;
	const int32_t *c0 = p->c0;
	const float *dx = p->dx;
	__m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
	const __m512i half = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
	int b = 0;
	for (; b + 16 <= nb; b += 16, w += 16 * wb, q += 512, c0 += 128, dx += 16) {
		__m512 sc = _mm512_mul_ps(qg_f16x16(w, wb), _mm512_loadu_ps(dx));
		for (int k = 0; k < 8; k++) {
			const uint8_t *wk = w + 2 * k * wb;
			// a pair is 68, 36 or 44 bytes: one line each, one more at the end
			_mm_prefetch((const char *)wk + QPF_L2, _MM_HINT_T1);
			_mm_prefetch((const char *)wk + QPF_L1, _MM_HINT_T0);
			if (k == 7) {
				_mm_prefetch((const char *)wk + QPF_L2 + 64, _MM_HINT_T1);
				_mm_prefetch((const char *)wk + QPF_L1 + 64, _MM_HINT_T0);
			}
			__m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(c0 + 16 * k), qg_w2(wk, kind), _mm512_loadu_si512(q + 64 * k));
			__m512 d = _mm512_permutexvar_ps(_mm512_add_epi32(half, _mm512_set1_epi32(2 * k)), sc);
			acc[k & 3] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[k & 3]);
		}
	}
	__m256 t = _mm256_setzero_ps();
	for (; b < nb; b++, w += wb, q += 32, c0 += 8, dx++) {
		__m256i s = _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i *)c0), qg_w1(w, kind), _mm256_loadu_si256((const __m256i *)q));
		t = _mm256_fmadd_ps(_mm256_set1_ps(qz_h16(w) * dx[0]), _mm256_cvtepi32_ps(s), t);
	}
	__m512 a = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
	return _mm512_reduce_add_ps(_mm512_add_ps(a, _mm512_zextps256_ps512(t)));
}

// o[r] = row r of w (rows of rb bytes) · the one Q8_0 token x, r < nr.
INLINE QZ_TARGET void qg_gemv(int nb, const uint8_t *w, size_t rb, const uint8_t *x, float *o, int nr, const int kind) {
	// 69 bytes of scratch per block: well under a page for usual widths,
	// and the pool's and Go's threads have C stacks of megabytes
	int8_t qs[32 * nb] __attribute__((aligned(64)));
	int32_t c0[8 * nb] __attribute__((aligned(64)));
	float dx[nb];
	struct gvprep p = {qs, c0, dx};
	qg_prep(nb, x, kind, &p);
	for (int r = 0; r < nr; r++) o[r] = qg_row(nb, w + (size_t)r * rb, &p, kind);
}

static QZ_TARGET void qg_gemv_q8_0(int nb, const uint8_t *w, size_t rb, const uint8_t *x, float *o, int nr) { qg_gemv(nb, w, rb, x, o, nr, Q32_Q8_0); }
static QZ_TARGET void qg_gemv_q4_0(int nb, const uint8_t *w, size_t rb, const uint8_t *x, float *o, int nr) { qg_gemv(nb, w, rb, x, o, nr, Q32_Q4_0); }
static QZ_TARGET void qg_gemv_q5_0(int nb, const uint8_t *w, size_t rb, const uint8_t *x, float *o, int nr) { qg_gemv(nb, w, rb, x, o, nr, Q32_Q5_0); }
