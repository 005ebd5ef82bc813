// Q8_0 prefill on AMX (Intel's tile unit; -INT8), included by qkernels.c
// after qkernels_zmm.h. One TDPBSSD multiplies 16 tokens × 32 values (a
// block) by 32 values × 16 rows into 16×16 exact int32 sums: what the
// 512-bit tiles do in 128 dpbusd. Each block's sums are then scaled by its
// token and row scales and added up in floats with AVX-512 (the scales
// differ per block, so the sums cannot stay in the tile), which is most of
// the work that remains.
//   - The tokens are the A operand, 16 rows of 32 bytes read straight from
//     the quantized activations (a stride per token).
//   - The weights are the B operand, which wants each row's values in
//     groups of four side by side: 16 rows' blocks are repacked into an
//     L2-sized scratch once per row group and reused by every token group.
//     The mapped weights stay the only copy of the model.
// Four C tiles take four blocks at a time, so the unit works on some while
// the vector units scale others.
#define QA_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni,amx-tile,amx-int8")))
#define QA_N 16 // tokens and rows per tile

struct qa_cfg {
	uint8_t palette, start_row, reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
};

// Tiles 0, 1, 6, 7: C (16 tokens × 16 int32); 2, 3: A (16 tokens × 32
// bytes); 4, 5: B (8 × 16 rows of 4 bytes).
static QA_TARGET void qa_config(void) {
	struct qa_cfg c;
	memset(&c, 0, sizeof c);
	c.palette = 1;
	for (int i = 0; i < 8; i++) {
		c.rows[i] = i == 4 || i == 5 ? 8 : 16;
		c.colsb[i] = i == 2 || i == 3 ? 32 : 64;
	}
	_tile_loadconfig(&c);
}

// qa_packrows writes rows w + i·rb (i < nr ≤ 16) of nb Q8_0 blocks as B
// tiles: pk[b·512 + k·64 + i·4 + j] = value 4k + j of row i's block b, and
// the rows' scales as floats, ds[b·16 + i]; rows past nr are zeros. A 16×8
// transpose of 32-bit groups per block, in three rounds of two-register
// permutes.
static QA_TARGET void qa_packrows(int nb, const uint8_t *w, size_t rb, int nr, int8_t *pk, float *ds) {
	static const uint8_t zeros[34];
	const uint8_t *rp[16];
	size_t step[16];
	for (int i = 0; i < 16; i++) rp[i] = i < nr ? w + i * rb : zeros, step[i] = i < nr ? 34 : 0;
	int32_t ix[3][2][16] __attribute__((aligned(64)));
	for (int e = 0; e < 16; e++) {
		int t = e / 4, k = e % 4; // round 1: four rows × values 0-3 (4-7)
		ix[0][0][e] = (t >= 2 ? 16 : 0) + (t % 2) * 8 + k;
		ix[0][1][e] = ix[0][0][e] + 4;
		t = e / 2, k = e % 2; // round 2: eight rows × a pair of groups
		ix[1][0][e] = (t >= 4 ? 16 : 0) + 4 * (t % 4) + k;
		ix[1][1][e] = ix[1][0][e] + 2;
		ix[2][0][e] = (e >= 8 ? 16 : 0) + 2 * (e % 8); // round 3: 16 rows × one group
		ix[2][1][e] = ix[2][0][e] + 1;
	}
	__m512i i1[2], i2[2], i3[2];
	for (int h = 0; h < 2; h++) {
		i1[h] = _mm512_load_si512(ix[0][h]);
		i2[h] = _mm512_load_si512(ix[1][h]);
		i3[h] = _mm512_load_si512(ix[2][h]);
	}
	for (int b = 0; b < nb; b++, pk += 512, ds += 16) {
		const uint8_t *bp[16];
		for (int i = 0; i < 16; i++) bp[i] = rp[i] + step[i] * b;
		__m512i z[8], u[8], v[8];
		for (int p = 0; p < 8; p++) // rows 2p, 2p+1
			z[p] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(bp[2 * p] + 2))),
			                          _mm256_loadu_si256((const __m256i *)(bp[2 * p + 1] + 2)), 1);
		for (int q = 0; q < 4; q++) // rows 4q..4q+3: u[q] groups 0-3, u[4+q] groups 4-7
			for (int h = 0; h < 2; h++) u[4 * h + q] = _mm512_permutex2var_epi32(z[2 * q], i1[h], z[2 * q + 1]);
		for (int s = 0; s < 2; s++) // rows 8s..8s+7, groups 2g, 2g+1 in v[2g + s]
			for (int g = 0; g < 4; g++)
				v[2 * g + s] = _mm512_permutex2var_epi32(u[4 * (g / 2) + 2 * s], i2[g % 2], u[4 * (g / 2) + 2 * s + 1]);
		for (int k = 0; k < 8; k++) // all 16 rows, group k
			_mm512_store_si512(pk + 64 * k, _mm512_permutex2var_epi32(v[2 * (k / 2)], i3[k % 2], v[2 * (k / 2) + 1]));
		uint64_t h[4] = {0, 0, 0, 0};
		for (int i = 0; i < 16; i++) h[i / 4] |= (uint64_t)(uint16_t)i16at(bp[i]) << (16 * (i % 4));
		_mm512_store_ps(ds, _mm512_cvtph_ps(_mm256_setr_epi64x((long long)h[0], (long long)h[1], (long long)h[2], (long long)h[3])));
	}
}

// qa_scales: the tokens' block scales as floats, dx[t·nb + b], 16 blocks
// per conversion (their halves gathered through general registers).
static QA_TARGET void qa_scales(int nb, const uint8_t *x, size_t xs, int n, float *dx) {
	for (int t = 0; t < n; t++, x += xs, dx += nb) {
		int b = 0;
		for (; b + 16 <= nb; b += 16)
			_mm512_storeu_ps(dx + b, _mm512_cvtph_ps(_mm256_setr_epi64x((long long)qg_h4(x + 34 * b, 34), (long long)qg_h4(x + 34 * (b + 4), 34),
			                                                            (long long)qg_h4(x + 34 * (b + 8), 34), (long long)qg_h4(x + 34 * (b + 12), 34))));
		for (; b < nb; b++) dx[b] = qz_h16(x + 34 * b);
	}
}

// Block b's 16×16 sums into tile c (from A tile a, B tile bt), stored to buf.
#define QA_PRODUCT(c, a, bt, buf, b)                   \
	do {                                               \
		_tile_zero(c);                                 \
		_tile_loadd(a, x + 34 * (b) + 2, xs);          \
		_tile_loadd(bt, pk + 512 * (b), 64);           \
		_tile_dpbssd(c, a, bt);                        \
		_tile_stored(c, buf, 64);                      \
	} while (0)

// acc[m] (16 rows) += block b's sums of token m (in buf) · row scales ·
// token scale.
#define QA_SCALE(buf, b)                                                                                \
	do {                                                                                                \
		__m512 dw = _mm512_load_ps(ds + 16 * (b));                                                      \
		for (int m = 0; m < QA_N; m++)                                                                  \
			acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(buf + 16 * m)),                 \
			                         _mm512_mul_ps(dw, _mm512_set1_ps(dx[m * nb + (b)])), acc[m]);          \
	} while (0)

// o[m·ldo + i] = token m (x + m·xs) · packed row i, for 16 tokens and the
// rows i < nr.
static QA_TARGET void qa_tile(int nb, const int8_t *pk, const float *ds, const uint8_t *x, size_t xs, const float *dx,
                              float *o, size_t ldo, int nr) {
	int32_t c[4][256] __attribute__((aligned(64)));
	__m512 acc[QA_N];
	for (int m = 0; m < QA_N; m++) acc[m] = _mm512_setzero_ps();
	// four blocks' products, then their scaling: the tile unit's stores of
	// one group overlap the vector work of the last (one ahead measured 115
	// cycles per block and tile here, four 101)
	int b = 0;
	for (; b + 4 <= nb; b += 4) {
		QA_PRODUCT(0, 2, 4, c[0], b);
		QA_PRODUCT(1, 3, 5, c[1], b + 1);
		QA_PRODUCT(6, 2, 4, c[2], b + 2);
		QA_PRODUCT(7, 3, 5, c[3], b + 3);
		for (int i = 0; i < 4; i++) QA_SCALE(c[i], b + i);
	}
	for (; b < nb; b++) {
		QA_PRODUCT(0, 2, 4, c[0], b);
		QA_SCALE(c[0], b);
	}
	for (int m = 0; m < QA_N; m++) _mm512_mask_storeu_ps(o + m * ldo, (__mmask16)((1u << nr) - 1), acc[m]);
}

// qa_q8_0: rows [r0, r1) × n tokens, n a multiple of 16 (the caller sends
// the rest to the 512-bit tiles). Every row takes this path whatever the
// row range, so a row's result does not depend on how the rows are cut
// into grabs. The scratch is per call: pk and ds for one row group, dx for
// all tokens.
static QA_TARGET void qa_q8_0(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, int n, float *o,
                              size_t ldo, int r0, int r1) {
	size_t need = (size_t)nb * 512 + (size_t)nb * 64 + (size_t)n * nb * 4;
	uint8_t *mem = aligned_alloc(64, (need + 63) / 64 * 64);
	if (!mem) abort();
	int8_t *pk = (int8_t *)mem;
	float *ds = (float *)(mem + (size_t)nb * 512), *dx = ds + (size_t)nb * 16;
	qa_scales(nb, x, xs, n, dx);
	qa_config();
	for (int r = r0; r < r1; r += QA_N) {
		int nr = r1 - r < QA_N ? r1 - r : QA_N;
		qa_packrows(nb, w + (size_t)r * rb, rb, nr, pk, ds);
		for (int t = 0; t < n; t += QA_N)
			qa_tile(nb, pk, ds, x + (size_t)t * xs, xs, dx + (size_t)t * nb, o + (size_t)t * ldo + r, ldo, nr);
	}
	_tile_release();
	free(mem);
}
