// AVX-512F kernels. For prefill (many tokens) 32 zmm registers hold a
// 4-row × 6-token tile, so each widened weight vector feeds six FMAs. x is
// in natural order (weights are widened with a zero-extend and a shift).
// Only called after a run-time CPU check (see kernels.c).

#define AVX512 __attribute__((target("avx512f")))

INLINE AVX512 __m512 load16z(const int dt, const void *row, int c) {
	if (dt == 0) return _mm512_loadu_ps((const float *)row + c);
	const __m256i *p = (const __m256i *)((const uint16_t *)row + c);
	if (dt == 1) return _mm512_cvtph_ps(_mm256_loadu_si256(p));
	return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(p)), 16));
}

// PF_DIST: decode prefetches each row this far ahead into L2. Without it
// one core read BF16 rows of 5632 columns at half the speed of rows of 2048
// (the wide x spills L1 and its reloads crowd the hardware prefetcher);
// with it both stream at ~23 GB/s per core (PF_DIST is set in kernels.c).

// z1x1: one row against one token (decode, and the row tails of prefill).
// One accumulator: four interleaved rows, or four accumulators, read DRAM
// slower here than this single dependent chain (BenchmarkDecodeStream).
INLINE AVX512 float z1x1(const int dt, const char *w, int cols, const float *x) {
	const int es = dt == 0 ? 4 : 2; // weight bytes per element
	__m512 a = _mm512_setzero_ps();
	int full = cols / 16 * 16;
	for (int c = 0; c < full; c += 16) {
		if (c * es % 64 == 0) _mm_prefetch(w + (size_t)c * es + PF_DIST, _MM_HINT_T1);
		a = _mm512_fmadd_ps(load16z(dt, w, c), _mm512_loadu_ps(x + c), a);
	}
	float s = _mm512_reduce_add_ps(a);
	for (int c = full; c < cols; c++) s += wval(dt, w, c) * x[c];
	return s;
}

// z4xt: four rows against nt ≤ 6 tokens; 24 accumulators + 4 weights + 1 x.
// nt is a constant at every call site, so each count compiles to its own
// fully unrolled tile (a token block's remainder runs at tile speed too).
INLINE AVX512 void z4xt(const int dt, const int nt, const char *w, size_t rb, int cols, const float *x, float *o, int ldo) {
	__m512 acc[4][6];
	for (int i = 0; i < 4; i++)
		for (int t = 0; t < nt; t++) acc[i][t] = _mm512_setzero_ps();
	int full = cols / 16 * 16;
	for (int c = 0; c < full; c += 16) {
		__m512 w0 = load16z(dt, w, c), w1 = load16z(dt, w + rb, c);
		__m512 w2 = load16z(dt, w + 2 * rb, c), w3 = load16z(dt, w + 3 * rb, c);
		for (int t = 0; t < nt; t++) {
			__m512 xv = _mm512_loadu_ps(x + (size_t)t * cols + c);
			acc[0][t] = _mm512_fmadd_ps(w0, xv, acc[0][t]);
			acc[1][t] = _mm512_fmadd_ps(w1, xv, acc[1][t]);
			acc[2][t] = _mm512_fmadd_ps(w2, xv, acc[2][t]);
			acc[3][t] = _mm512_fmadd_ps(w3, xv, acc[3][t]);
		}
	}
	for (int i = 0; i < 4; i++) {
		const char *row = w + i * rb;
		for (int t = 0; t < nt; t++) {
			const float *xt = x + (size_t)t * cols;
			float s = _mm512_reduce_add_ps(acc[i][t]);
			for (int c = full; c < cols; c++) s += wval(dt, row, c) * xt[c];
			o[(size_t)t * ldo + i] = s;
		}
	}
}

// z4rest: the last 1..5 tokens of a block through their own tile.
INLINE AVX512 void z4rest(const int dt, int nt, const char *w, size_t rb, int cols, const float *x, float *o, int ldo) {
	switch (nt) {
	case 1: z4xt(dt, 1, w, rb, cols, x, o, ldo); break;
	case 2: z4xt(dt, 2, w, rb, cols, x, o, ldo); break;
	case 3: z4xt(dt, 3, w, rb, cols, x, o, ldo); break;
	case 4: z4xt(dt, 4, w, rb, cols, x, o, ldo); break;
	default: z4xt(dt, 5, w, rb, cols, x, o, ldo); break;
	}
}

INLINE AVX512 void matmul_avx512_dt(const int dt, const void *w, int cols, const float *x, int n,
                                    float *out, int ldo, int r0, int r1) {
	size_t rb = (size_t)cols * (dt == 0 ? 4 : 2);
	int tb = (int)((256u << 10) / ((size_t)cols * 4)) / 6 * 6;
	if (tb < 6) tb = 6;
	for (int t0 = 0; t0 < n; t0 += tb) {
		int t1 = t0 + tb < n ? t0 + tb : n;
		// Fewer than a tile of tokens (decode): one row at a time. Four
		// interleaved row streams read DRAM at ~0.75 of one sequential
		// stream on Zen 4 (BenchmarkDecodeStream); the sums are the same.
		int r = r0;
		for (; n >= 6 && r + 4 <= r1; r += 4) {
			const char *wr = (const char *)w + (size_t)r * rb;
			int t = t0;
			for (; t + 6 <= t1; t += 6) z4xt(dt, 6, wr, rb, cols, x + (size_t)t * cols, out + (size_t)t * ldo + r, ldo);
			if (t < t1) z4rest(dt, t1 - t, wr, rb, cols, x + (size_t)t * cols, out + (size_t)t * ldo + r, ldo);
		}
		for (; r < r1; r++) {
			const char *wr = (const char *)w + (size_t)r * rb;
			for (int t = t0; t < t1; t++) out[(size_t)t * ldo + r] = z1x1(dt, wr, cols, x + (size_t)t * cols);
		}
	}
}

static AVX512 void matmul_avx512(int dtype, const void *w, int cols, const float *x, int n,
                                 float *out, int ldo, int r0, int r1) {
	switch (dtype) {
	case 0: matmul_avx512_dt(0, w, cols, x, n, out, ldo, r0, r1); break;
	case 1: matmul_avx512_dt(1, w, cols, x, n, out, ldo, r0, r1); break;
	default: matmul_avx512_dt(2, w, cols, x, n, out, ldo, r0, r1); break;
	}
}

// exp_parts16: e^x = 2^nf · p for x in [-SILU_CAP, 0] (the reduction and
// Taylor polynomial described in kernels.c).
INLINE AVX512 __m512 exp_parts16(__m512 x, __m512 *nf) {
	*nf = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m512 r = _mm512_fnmadd_ps(*nf, _mm512_set1_ps(LN2_HI), x);
	r = _mm512_fnmadd_ps(*nf, _mm512_set1_ps(LN2_LO), r);
	__m512 p = _mm512_fmadd_ps(_mm512_set1_ps(EXP_C7), r, _mm512_set1_ps(EXP_C6));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_C5));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_C4));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_C3));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_C2));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1));
	return _mm512_fmadd_ps(p, r, _mm512_set1_ps(1));
}

// silu16: silu of 16 lanes, as swiglu_scalar in kernels.c; scalef applies
// 2^n with one rounding.
INLINE AVX512 __m512 silu16(__m512 g) {
	const __m512i sign = _mm512_set1_epi32((int)0x80000000);
	__m512 na = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(g), sign));
	na = _mm512_max_ps(na, _mm512_set1_ps(-SILU_CAP)); // NaN: the cap
	__m512 nf, p = exp_parts16(na, &nf);
	__m512 t = _mm512_scalef_ps(p, nf);
	__mmask16 lt = _mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_LT_OQ);
	__m512 num = _mm512_mask_blend_ps(lt, g, _mm512_scalef_ps(_mm512_mul_ps(na, p), nf));
	return _mm512_div_ps(num, _mm512_add_ps(t, _mm512_set1_ps(1)));
}

static AVX512 void swiglu_avx512(float *gate, const float *up, size_t n) {
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(gate + i, _mm512_mul_ps(silu16(_mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
	if (i < n) { // the tail through the same lanes, masked
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		__m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i);
		_mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(silu16(g), u));
	}
}

// hsum16x16: lane j of the result is the sum of a[j]'s 16 lanes, by two
// rounds of in-lane unpacks and two of 128-bit shuffles (45 operations
// for 16 sums, where one horizontal sum each takes ~8 dependent ones).
INLINE AVX512 __m512 hsum16x16(const __m512 a[16]) {
	__m512 t[8], u[4];
	for (int i = 0; i < 8; i++) // per 128-bit lane: a[2i] and a[2i+1], two partial sums each
		t[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
	for (int i = 0; i < 4; i++) { // per 128-bit lane: a[4i..4i+3], one partial sum each
		__m512d x = _mm512_castps_pd(t[2 * i]), y = _mm512_castps_pd(t[2 * i + 1]);
		u[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
	}
	__m512 v = _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], 0x88), _mm512_shuffle_f32x4(u[0], u[1], 0xdd));
	__m512 w = _mm512_add_ps(_mm512_shuffle_f32x4(u[2], u[3], 0x88), _mm512_shuffle_f32x4(u[2], u[3], 0xdd));
	return _mm512_add_ps(_mm512_shuffle_f32x4(v, w, 0x88), _mm512_shuffle_f32x4(v, w, 0xdd));
}

// attend_avx512_zmm: attend.c's attention for head sizes that are a
// multiple of 16 up to 128, with sc [group][len]. All the group's query
// heads go through each pass together, so a key or value row is read once
// per group, not once per head (a decode step at 1500 positions spent most
// of its attention re-reading them), and the heads' sums are independent
// chains:
//   - scores: 16 keys at a time, each row loaded once for every head, 16
//     dot products per head summed with one transpose (hsum16x16);
//   - exp 16 at a time per head;
//   - values: each row loaded once for up to 4 heads (2 for head sizes over
//     64), their accumulators in registers.
// 0 if the head size does not qualify.
INLINE AVX512 void attend_zmm_nv(const int nv, const float *q, int group, const float *k, const float *v, int len, float scale,
                                 float *sc, float *out) {
	const int hd = 16 * nv, hc = nv <= 4 ? 4 : 2;
	float best[group];
	__m512 vmax[group];
	for (int i = 0; i < group; i++) vmax[i] = _mm512_set1_ps(-INFINITY);
	int j = 0;
	for (; j + 16 <= len; j += 16) {
		for (int i = 0; i < group; i++) {
			const float *qi = q + (size_t)i * hd;
			__m512 qv[8], a[16];
			for (int c = 0; c < nv; c++) qv[c] = _mm512_loadu_ps(qi + 16 * c);
			for (int jj = 0; jj < 16; jj++) {
				const float *kj = k + (size_t)(j + jj) * hd;
				a[jj] = _mm512_mul_ps(qv[0], _mm512_loadu_ps(kj));
				for (int c = 1; c < nv; c++) a[jj] = _mm512_fmadd_ps(qv[c], _mm512_loadu_ps(kj + 16 * c), a[jj]);
			}
			__m512 s = _mm512_mul_ps(hsum16x16(a), _mm512_set1_ps(scale));
			_mm512_storeu_ps(sc + (size_t)i * len + j, s);
			vmax[i] = _mm512_max_ps(vmax[i], s);
		}
	}
	for (int i = 0; i < group; i++) best[i] = _mm512_reduce_max_ps(vmax[i]);
	for (; j < len; j++) {
		const float *kj = k + (size_t)j * hd;
		for (int i = 0; i < group; i++) {
			const float *qi = q + (size_t)i * hd;
			__m512 a = _mm512_mul_ps(_mm512_loadu_ps(qi), _mm512_loadu_ps(kj));
			for (int c = 1; c < nv; c++) a = _mm512_fmadd_ps(_mm512_loadu_ps(qi + 16 * c), _mm512_loadu_ps(kj + 16 * c), a);
			float s = _mm512_reduce_add_ps(a) * scale;
			sc[(size_t)i * len + j] = s;
			best[i] = s > best[i] ? s : best[i];
		}
	}
	float inv[group];
	const __m512 cap = _mm512_set1_ps(-SILU_CAP);
	for (int i = 0; i < group; i++) {
		float *si = sc + (size_t)i * len;
		__m512 vsum = _mm512_setzero_ps(), b = _mm512_set1_ps(best[i]);
		for (j = 0; j < len; j += 16) {
			__mmask16 m = len - j >= 16 ? 0xffff : (__mmask16)((1u << (len - j)) - 1);
			__m512 nf, x = _mm512_max_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, si + j), b), cap);
			__m512 p = exp_parts16(x, &nf); // sets nf: its own statement
			__m512 e = _mm512_maskz_scalef_ps(m, p, nf);
			_mm512_mask_storeu_ps(si + j, m, e);
			vsum = _mm512_add_ps(vsum, e);
		}
		inv[i] = 1 / _mm512_reduce_add_ps(vsum);
	}
	for (int i0 = 0; i0 < group; i0 += hc) {
		const int nh = group - i0 < hc ? group - i0 : hc;
		__m512 o[4][8];
		for (int h = 0; h < nh; h++)
			for (int c = 0; c < nv; c++) o[h][c] = _mm512_setzero_ps();
		for (j = 0; j < len; j++) {
			const float *vj = v + (size_t)j * hd;
			__m512 vr[8];
			for (int c = 0; c < nv; c++) vr[c] = _mm512_loadu_ps(vj + 16 * c);
			for (int h = 0; h < nh; h++) {
				// normalised before the sum, as ggml's soft_max then V·p
				__m512 p = _mm512_set1_ps(sc[(size_t)(i0 + h) * len + j] * inv[i0 + h]);
				for (int c = 0; c < nv; c++) o[h][c] = _mm512_fmadd_ps(p, vr[c], o[h][c]);
			}
		}
		for (int h = 0; h < nh; h++)
			for (int c = 0; c < nv; c++) _mm512_storeu_ps(out + (size_t)(i0 + h) * hd + 16 * c, o[h][c]);
	}
}

static AVX512 int attend_avx512_zmm(const float *q, int group, int hd, const float *k, const float *v, int len, float scale,
                                   float *sc, float *out) {
	if (hd % 16 != 0 || hd > 128 || len < 1) return 0;
	switch (hd / 16) { // each head size its own body, its rows in registers
	case 1: attend_zmm_nv(1, q, group, k, v, len, scale, sc, out); break;
	case 2: attend_zmm_nv(2, q, group, k, v, len, scale, sc, out); break;
	case 3: attend_zmm_nv(3, q, group, k, v, len, scale, sc, out); break;
	case 4: attend_zmm_nv(4, q, group, k, v, len, scale, sc, out); break;
	case 5: attend_zmm_nv(5, q, group, k, v, len, scale, sc, out); break;
	case 6: attend_zmm_nv(6, q, group, k, v, len, scale, sc, out); break;
	case 7: attend_zmm_nv(7, q, group, k, v, len, scale, sc, out); break;
	default: attend_zmm_nv(8, q, group, k, v, len, scale, sc, out); break;
	}
	return 1;
}
