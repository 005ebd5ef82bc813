// AVX2 block dot products, included twice by qkernels.c: QVNNI 0 with
// maddubs/madd (AVX2), QVNNI 1 with VPDPBUSD (AVX-512 VNNI + VL). QSUF
// names the copy, QTARGET its target attribute. Only called after a
// run-time CPU check. Accumulation: int8×int8 pairs fit int16 (|u8| ≤ 128,
// |s8| ≤ 127 ⇒ 2·128·127 < 32767), block sums int32, then float.
#define QCAT_(a, b) a##b
#define QCAT(a, b) QCAT_(a, b)
#define QF(name) QCAT(name, QSUF)

INLINE QTARGET float QF(hsum8)(__m256 v) {
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

// acc + the sums of four u8·s8 products per int32 lane.
INLINE QTARGET __m256i QF(dot_us8)(__m256i acc, __m256i u, __m256i s) {
#if QVNNI
	return _mm256_dpbusd_epi32(acc, u, s);
#else
	return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// acc + the sums of two s16·s16 products per int32 lane (no saturation).
INLINE QTARGET __m256i QF(dot_ss16)(__m256i acc, __m256i a, __m256i b) {
#if QVNNI
	return _mm256_dpwssd_epi32(acc, a, b);
#else
	return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// Signed × signed through the unsigned form: |a| · sign(b, a).
INLINE QTARGET __m256 QF(dot_s8)(__m256i a, __m256i b) {
	__m256i z = _mm256_setzero_si256();
	return _mm256_cvtepi32_ps(QF(dot_us8)(z, _mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a)));
}

// Prefetches the lines of a block of n bytes at w for decode (QPF_*).
INLINE void QF(pfblock)(const uint8_t *w, const int n) {
	for (int o = 0; o < n; o += 64) {
		_mm_prefetch((const char *)w + QPF_L2 + o, _MM_HINT_T1);
		_mm_prefetch((const char *)w + QPF_L1 + o, _MM_HINT_T0);
	}
}

INLINE QTARGET float QF(h16)(const uint8_t *p) {
	uint16_t v;
	memcpy(&v, p, 2);
	return _cvtsh_ss(v);
}

// 32 nibbles of a Q4_0 block as bytes 0..15: low nibbles first.
INLINE QTARGET __m256i QF(nibbles)(const uint8_t *qs) {
	__m128i t = _mm_loadu_si128((const __m128i *)qs);
	return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0xf));
}

#ifndef Q32_BYTES // this file is included once per instruction set
// The kinds of 32-value block: their bytes, where their values (qs) start,
// and the offset that makes Q4_0/Q5_0's unsigned values signed.
enum { Q32_Q8_0, Q32_Q4_0, Q32_Q5_0 };
#define Q32_BYTES(kind) ((kind) == Q32_Q8_0 ? 34 : (kind) == Q32_Q4_0 ? 18 : 22)
#define Q32_QS(kind) ((kind) == Q32_Q5_0 ? 6 : 2)
#define Q32_BIAS(kind) ((kind) == Q32_Q5_0 ? 16 : 8)
#endif

// 0xff in byte j where bit j of the 32 bits at p is set (ggml's
// bytes_from_bits_32).
INLINE QTARGET __m256i QF(bits32)(const uint8_t *p) {
	uint32_t u;
	memcpy(&u, p, 4);
	__m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)u), _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
	b = _mm256_or_si256(b, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
	return _mm256_cmpeq_epi8(b, _mm256_set1_epi64x(-1));
}

// The 32 signed values of a Q8_0, Q4_0 (less 8) or Q5_0 (the 5th bits of
// qh added, less 16) block.
INLINE QTARGET __m256i QF(w32)(const uint8_t *w, const int kind) {
	if (kind == Q32_Q8_0) return _mm256_loadu_si256((const __m256i *)(w + 2));
	if (kind == Q32_Q4_0) return _mm256_sub_epi8(QF(nibbles)(w + 2), _mm256_set1_epi8(Q32_BIAS(kind)));
	__m256i q = _mm256_or_si256(QF(nibbles)(w + Q32_QS(kind)), _mm256_and_si256(QF(bits32)(w + 2), _mm256_set1_epi8(0x10)));
	return _mm256_sub_epi8(q, _mm256_set1_epi8(Q32_BIAS(kind)));
}

// q8_0 / q4_0 / q5_0 × q8_0: two blocks per step on independent accumulators.
INLINE QTARGET float QF(dot_32)(int nb, const uint8_t *w, const uint8_t *x, const int kind) {
	const int wb = Q32_BYTES(kind);
	__m256 a0 = _mm256_setzero_ps(), a1 = a0;
	int b = 0;
	for (; b + 2 <= nb; b += 2, w += 2 * wb, x += 68) {
		__m256 p0 = QF(dot_s8)(QF(w32)(w, kind), _mm256_loadu_si256((const __m256i *)(x + 2)));
		__m256 p1 = QF(dot_s8)(QF(w32)(w + wb, kind), _mm256_loadu_si256((const __m256i *)(x + 36)));
		a0 = _mm256_fmadd_ps(_mm256_set1_ps(QF(h16)(w) * QF(h16)(x)), p0, a0);
		a1 = _mm256_fmadd_ps(_mm256_set1_ps(QF(h16)(w + wb) * QF(h16)(x + 34)), p1, a1);
	}
	if (b < nb) {
		__m256 p = QF(dot_s8)(QF(w32)(w, kind), _mm256_loadu_si256((const __m256i *)(x + 2)));
		a0 = _mm256_fmadd_ps(_mm256_set1_ps(QF(h16)(w) * QF(h16)(x)), p, a0);
	}
	return QF(hsum8)(_mm256_add_ps(a0, a1));
}

static QTARGET float QF(dot_q8_0)(int nb, const uint8_t *w, const uint8_t *x) { return QF(dot_32)(nb, w, x, Q32_Q8_0); }
static QTARGET float QF(dot_q4_0)(int nb, const uint8_t *w, const uint8_t *x) { return QF(dot_32)(nb, w, x, Q32_Q4_0); }
static QTARGET float QF(dot_q5_0)(int nb, const uint8_t *w, const uint8_t *x) { return QF(dot_32)(nb, w, x, Q32_Q5_0); }

// kscales unpacks Q4_K/Q5_K's 12 scale bytes into 8 scales then 8 mins
// (ggml's utmp shuffle; equals get_scale_min_k4).
INLINE void QF(kscales)(const uint8_t *p, uint32_t u[4]) {
	const uint32_t m1 = 0x3f3f3f3f, m2 = 0x0f0f0f0f, m3 = 0x03030303;
	memcpy(u, p, 12);
	u[3] = ((u[2] >> 4) & m2) | (((u[1] >> 6) & m3) << 4);
	uint32_t a = u[1] & m1;
	u[1] = (u[2] & m2) | (((u[0] >> 6) & m3) << 4);
	u[2] = a;
	u[0] &= m1;
}

// Σ_j min_j · (bsum[2j] + bsum[2j+1]) of a Q8_K block.
INLINE QTARGET int32_t QF(kmins)(const uint32_t u[4], const uint8_t *x) {
	__m256i bs = _mm256_loadu_si256((const __m256i *)(x + 260));
	__m128i s = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
	__m128i m = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)u[3], (int)u[2]));
	__m128i p = _mm_madd_epi16(m, s);
	p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
	p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
	return _mm_cvtsi128_si32(p);
}

// k45unpack: the 64 values of chunk j of a Q4_K/Q5_K block, as bytes:
// lo = sub-block 2j (low nibbles), hi = sub-block 2j+1, plus the 5th bit
// (bits 2j, 2j+1 of qh) for Q5_K.
INLINE QTARGET void QF(k45unpack)(const uint8_t *qs, __m256i hb, int j, const int five, __m256i *lo, __m256i *hi) {
	const __m256i m4 = _mm256_set1_epi8(0xf);
	__m256i bits = _mm256_loadu_si256((const __m256i *)qs);
	*lo = _mm256_and_si256(bits, m4);
	*hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
	if (five) {
		const __m256i one = _mm256_set1_epi8(1);
		*lo = _mm256_or_si256(*lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), one), 4));
		*hi = _mm256_or_si256(*hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), one), 4));
	}
}

// q6unpack: the 128 values of one half of a Q6_K block as bytes 0..63
// (ql nibble | 2 qh bits << 4), in four runs of 32.
INLINE QTARGET void QF(q6unpack)(const uint8_t *ql, const uint8_t *qh, __m256i q[4]) {
	const __m256i m4 = _mm256_set1_epi8(0xf), m2 = _mm256_set1_epi8(3);
	__m256i l1 = _mm256_loadu_si256((const __m256i *)ql), l2 = _mm256_loadu_si256((const __m256i *)(ql + 32));
	__m256i hb = _mm256_loadu_si256((const __m256i *)qh);
	q[0] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
	q[1] = _mm256_or_si256(_mm256_and_si256(l2, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
	q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
	q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l2, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
}

// q4_K (five 0) and q5_K (five 1): per 64 values, low then high nibbles
// (plus the 5th bit from qh), each 32 under one 6-bit scale.
INLINE QTARGET float QF(dot_k45)(int nb, const uint8_t *w, const uint8_t *x, const int five) {
	__m256 acc = _mm256_setzero_ps();
	float mins = 0;
	for (int b = 0; b < nb; b++, w += five ? 176 : 144, x += 292) {
		QF(pfblock)(w, five ? 176 : 144);
		uint32_t u[4];
		QF(kscales)(w + 4, u);
		const uint8_t *sc = (const uint8_t *)u;
		float xd = f32at(x);
		mins -= xd * QF(h16)(w + 2) * (float)QF(kmins)(u, x);
		const uint8_t *qs = w + (five ? 48 : 16), *q8 = x + 4;
		__m256i hb = five ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256();
		__m256i sumi = _mm256_setzero_si256();
		for (int j = 0; j < 4; j++, qs += 32, q8 += 64) {
			__m256i lo, hi;
			QF(k45unpack)(qs, hb, j, five, &lo, &hi);
			__m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
			__m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
			sumi = QF(dot_ss16)(sumi, pl, _mm256_set1_epi16(sc[2 * j]));
			sumi = QF(dot_ss16)(sumi, ph, _mm256_set1_epi16(sc[2 * j + 1]));
		}
		acc = _mm256_fmadd_ps(_mm256_set1_ps(xd * QF(h16)(w)), _mm256_cvtepi32_ps(sumi), acc);
	}
	return QF(hsum8)(acc) + mins;
}

static QTARGET float QF(dot_q4_K)(int nb, const uint8_t *w, const uint8_t *x) { return QF(dot_k45)(nb, w, x, 0); }
static QTARGET float QF(dot_q5_K)(int nb, const uint8_t *w, const uint8_t *x) { return QF(dot_k45)(nb, w, x, 1); }

// -32·sc of a Q6_K block's 16 scales as int16: madd with the Q8_K block
// sums gives the -32 offset per lane (32·Σ_g sc_g·bsum_g in all), which
// the prefill tiles share, so both sum the same integers per lane.
INLINE QTARGET __m256i QF(q6negsc)(const uint8_t *w) {
	__m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 192)));
	return _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(sc16, 5));
}

// q6_K: 6-bit values 0..63 (ql nibble | 2 qh bits << 4) with the -32
// offset through the block sums (q6negsc), per 16 values one scale.
static QTARGET float QF(dot_q6_K)(int nb, const uint8_t *w, const uint8_t *x) {
	__m256 acc = _mm256_setzero_ps();
	for (int b = 0; b < nb; b++, w += 210, x += 292) {
		QF(pfblock)(w, 210);
		const uint8_t *ql = w, *qh = w + 128, *q8 = x + 4;
		const int8_t *sc = (const int8_t *)w + 192;
		__m256i sumi = _mm256_madd_epi16(QF(q6negsc)(w), _mm256_loadu_si256((const __m256i *)(x + 260)));
		for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8) {
			__m256i q[4];
			QF(q6unpack)(ql, qh, q);
			for (int k = 0; k < 4; k++, q8 += 32) {
				__m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)q8));
				__m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[2 * k + 1]), _mm_set1_epi16(sc[2 * k]));
				sumi = QF(dot_ss16)(sumi, p, s);
			}
		}
		acc = _mm256_fmadd_ps(_mm256_set1_ps(f32at(x) * QF(h16)(w + 208)), _mm256_cvtepi32_ps(sumi), acc);
	}
	return QF(hsum8)(acc);
}


