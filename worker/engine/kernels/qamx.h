// Q8_0, Q4_K and Q6_K prefill on AMX (Intel's tile unit; -INT8), included
// by qkernels.c after qkernels_avx.h and qkernels_zmm.h. One tile product
// multiplies 16 tokens × the values under one scale (a unit: a Q8_0 block,
// a Q4_K sub-block of 32, a Q6_K group of 16) by those values × 16 rows
// into 16×16 exact int32 sums: what the 512-bit tiles do in up to 128
// dpbusd. Each unit's sums are then scaled by its token and row scales and
// added up in floats with AVX-512 (the scales differ per unit, so the sums
// cannot stay in the tile), which is most of the work that remains; Q4_K's
// mins are one more multiply-add per sub-block and token.
//   - The tokens are the A operand, 16 rows of 32 bytes read straight from
//     the quantized activations (a stride per token).
//   - The weights are the B operand, which wants each row's values in
//     groups of four side by side (as bytes: Q4_K's nibbles and Q6_K's
//     six bits unpacked, Q6_K's less 32): 16
//     rows' blocks are repacked into an L2-sized scratch once per row group
//     and reused by every token group. The mapped weights stay the only
//     copy of the model.
// Four C tiles take four blocks at a time, so the unit works on some while
// the vector units scale others.
#define QA_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni,amx-tile,amx-int8")))
#define QA_N 16 // tokens and rows per tile
#include "amxtile.h"

// Tiles 0, 1, 6, 7: C (16 tokens × 16 int32); 2, 3: A (16 tokens × k
// bytes, k the unit's values); 4, 5: B (k/4 × 16 rows of 4 bytes).
static QA_TARGET void qa_config(int k) {
	struct qa_cfg c;
	memset(&c, 0, sizeof c);
	c.palette = 1;
	for (int i = 0; i < 8; i++) {
		c.rows[i] = i == 4 || i == 5 ? k / 4 : 16;
		c.colsb[i] = i == 2 || i == 3 ? k : 64;
	}
	_tile_loadconfig(&c);
}

// The three kinds of block: their units per block and unit values.
enum { QA_Q8_0, QA_Q4_K, QA_Q6_K };
#define QA_UNITS(kind) ((kind) == QA_Q8_0 ? 1 : (kind) == QA_Q4_K ? 8 : 16)
#define QA_UVALS(kind) ((kind) == QA_Q6_K ? 16 : 32)

// Rows w + i·rb (i < nr ≤ 16) of a block each, rows past nr reading zeros.
static const uint8_t qa_zeros[210];
INLINE QA_TARGET void qa_rowptrs(const uint8_t *w, size_t rb, int nr, size_t bb, int b, const uint8_t *bp[16]) {
	for (int i = 0; i < 16; i++) bp[i] = i < nr ? w + i * rb + (size_t)b * bb : qa_zeros;
}

// The f16 at each of 16 pointers as floats, gathered four to a general
// register and converted at once.
INLINE QA_TARGET __m512 qa_h16x16(const uint8_t *const p[16]) {
	uint64_t h[4] = {0, 0, 0, 0};
	for (int i = 0; i < 16; i++) h[i / 4] |= (uint64_t)(uint16_t)i16at(p[i]) << (16 * (i % 4));
	return _mm512_cvtph_ps(_mm256_setr_epi64x((long long)h[0], (long long)h[1], (long long)h[2], (long long)h[3]));
}

// The row side of 16 rows, per unit u: its B tile at pk + 16·uvals·u, its
// row scales ds[16u + i] and (Q4_K) mins dm[16u + i], both with the
// block's f16 factor. Q8_0: a unit per block. Q4_K: eight per block, the
// nibbles unpacked, scale d·sc_j and min dmin·m_j (6-bit, kscales). Q6_K:
// sixteen, q - 32 from q6unpack, scale d·sc_g (int8); one 32-value run's
// transpose is the B tiles of its two groups.
static QA_TARGET void qa_packrows(const struct qa_ix *q, int nb, const uint8_t *w, size_t rb, int nr, const int kind,
                                  int8_t *pk, float *ds, float *dm) {
	__m256i rows[16], hi[16];
	const uint8_t *bp[16];
	if (kind == QA_Q6_K) {
		const __m256i c32 = _mm256_set1_epi8(32);
		for (int b = 0; b < nb; b++, pk += 16 * 256, ds += 16 * 16) {
			qa_rowptrs(w, rb, nr, 210, b, bp);
			for (int h = 0; h < 2; h++) {
				__m256i run[16][4];
				for (int i = 0; i < 16; i++) q6unpack_vnni(bp[i] + 64 * h, bp[i] + 128 + 32 * h, run[i]);
				for (int r = 0; r < 4; r++) {
					for (int i = 0; i < 16; i++) rows[i] = _mm256_sub_epi8(run[i][r], c32);
					qa_transpose(q, rows, pk + 256 * (8 * h + 2 * r));
				}
			}
			const uint8_t *bd[16];
			for (int i = 0; i < 16; i++) bd[i] = bp[i] + 208;
			float dd[16] __attribute__((aligned(64)));
			_mm512_store_ps(dd, qa_h16x16(bd));
			for (int i = 0; i < 16; i++)
				for (int g = 0; g < 16; g++) ds[16 * g + i] = dd[i] * (float)(int8_t)bp[i][192 + g];
		}
		return;
	}
	if (kind == QA_Q8_0) {
		for (int b = 0; b < nb; b++, pk += 512, ds += 16) {
			qa_rowptrs(w, rb, nr, 34, b, bp);
			for (int i = 0; i < 16; i++) rows[i] = _mm256_loadu_si256((const __m256i *)(bp[i] + 2));
			qa_transpose(q, rows, pk);
			_mm512_store_ps(ds, qa_h16x16(bp));
		}
		return;
	}
	const __m256i m4 = _mm256_set1_epi8(0xf);
	for (int b = 0; b < nb; b++, pk += 8 * 512, ds += 8 * 16, dm += 8 * 16) {
		qa_rowptrs(w, rb, nr, 144, b, bp);
		for (int jj = 0; jj < 4; jj++) { // values 64jj.. of each row: sub-blocks 2jj, 2jj+1
			for (int i = 0; i < 16; i++) {
				__m256i v = _mm256_loadu_si256((const __m256i *)(bp[i] + 16 + 32 * jj));
				rows[i] = _mm256_and_si256(v, m4);
				hi[i] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
			}
			qa_transpose(q, rows, pk + 512 * (2 * jj));
			qa_transpose(q, hi, pk + 512 * (2 * jj + 1));
		}
		const uint8_t *bm[16];
		for (int i = 0; i < 16; i++) bm[i] = bp[i] + 2;
		__m512 d = qa_h16x16(bp), dmin = qa_h16x16(bm);
		float dd[16] __attribute__((aligned(64))), dn[16] __attribute__((aligned(64)));
		_mm512_store_ps(dd, d);
		_mm512_store_ps(dn, dmin);
		for (int i = 0; i < 16; i++) {
			uint32_t u[4];
			kscales_vnni(bp[i] + 4, u);
			const uint8_t *sm = (const uint8_t *)u; // 8 scales, 8 mins
			for (int j = 0; j < 8; j++) ds[16 * j + i] = dd[i] * sm[j], dm[16 * j + i] = dn[i] * sm[8 + j];
		}
	}
}

// The token side of n tokens per unit u of nu: dx[t·nu + u] the token's
// scale; (Q4_K) bx[t·nu + u] the sum of the unit's values (the Q8_K block
// sums, pairwise), what the row's min multiplies.
static QA_TARGET void qa_tokens(int nb, const uint8_t *x, size_t xs, int n, const int kind, float *dx, float *bx) {
	const int upb = QA_UNITS(kind), nu = upb * nb;
	for (int t = 0; t < n; t++, x += xs, dx += nu, bx += nu) {
		int b = 0;
		if (kind == QA_Q8_0) {
			for (; b + 16 <= nb; b += 16)
				_mm512_storeu_ps(dx + b, qg_f16x16(x + 34 * b, 34));
			for (; b < nb; b++) dx[b] = qz_h16(x + 34 * b);
			continue;
		}
		for (; b < nb; b++) {
			const uint8_t *xb = x + 292 * b;
			float d = f32at(xb);
			for (int j = 0; j < upb; j++) {
				dx[upb * b + j] = d;
				if (kind == QA_Q4_K) bx[8 * b + j] = (float)(i16at(xb + 260 + 4 * j) + i16at(xb + 262 + 4 * j));
			}
		}
	}
}

// Unit u's 16×16 sums into tile c (from A tile a, B tile bt), stored to buf.
// A: Q8_0 block u, or unit u%upb of the Q8_K block u/upb, of each token.
#define QA_PRODUCT(c, a, bt, buf, u)                                                                             \
	do {                                                                                                         \
		_tile_zero(c);                                                                                           \
		_tile_loadd(a, x + (kind == QA_Q8_0 ? 34 * (u) + 2 : 292 * ((u) / upb) + 4 + uv * ((u) % upb)), xs);      \
		_tile_loadd(bt, pk + 16 * uv * (u), 64);                                                                  \
		if (kind == QA_Q4_K)                                                                                     \
			_tile_dpbsud(c, a, bt);                                                                              \
		else                                                                                                     \
			_tile_dpbssd(c, a, bt);                                                                              \
		_tile_stored(c, buf, 64);                                                                                \
	} while (0)

// acc[m] (16 rows) += Q8_0 block u's sums of token m (in buf) · row
// scales · token scale.
#define QA_SCALE(buf, u)                                                                                  \
	do {                                                                                                  \
		__m512 dw = _mm512_load_ps(ds + 16 * (u));                                                        \
		for (int m = 0; m < QA_N; m++)                                                                    \
			acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(buf + 16 * m)),                   \
			                         _mm512_mul_ps(dw, _mm512_set1_ps(dx[m * nu + (u)])), acc[m]);            \
	} while (0)

// The same for a K-quant unit before the token's scale, which its whole
// block shares: sacc[m] += sums · row scales, less (Q4_K) the rows' mins
// times the token's unit sum.
#define QA_KSCALE(buf, u)                                                                                 \
	do {                                                                                                  \
		__m512 dw = _mm512_load_ps(ds + 16 * (u));                                                        \
		for (int m = 0; m < QA_N; m++)                                                                    \
			sacc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(buf + 16 * m)), dw, sacc[m]);    \
		if (kind == QA_Q4_K) {                                                                            \
			__m512 mn = _mm512_load_ps(dm + 16 * (u));                                                    \
			for (int m = 0; m < QA_N; m++) sacc[m] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(bx[m * nu + (u)]), sacc[m]); \
		}                                                                                                 \
	} while (0)

// o[m·ldo + i] = token m (x + m·xs) · packed row i, for 16 tokens and the
// rows i < nr, over nu units.
INLINE QA_TARGET void qa_tile(int nu, const int kind, const int8_t *pk, const float *ds, const float *dm, const uint8_t *x,
                              size_t xs, const float *dx, const float *bx, float *o, size_t ldo, int nr) {
	const int upb = QA_UNITS(kind), uv = QA_UVALS(kind);
	int32_t c[4][256] __attribute__((aligned(64)));
	if (kind != QA_Q8_0) {
		// a block's units (8 or 16) summed before its token scale: one
		// multiply per unit and token fewer, the block's sum added to acc
		// (in memory: acc and sacc would fill the registers) once per block
		float acc[QA_N][QA_N] __attribute__((aligned(64)));
		memset(acc, 0, sizeof acc);
		for (int b = 0, u = 0; u < nu; b++) {
			__m512 sacc[QA_N];
			for (int m = 0; m < QA_N; m++) sacc[m] = _mm512_setzero_ps();
			for (int e = u + upb; u < e; u += 4) {
				QA_PRODUCT(0, 2, 4, c[0], u);
				QA_PRODUCT(1, 3, 5, c[1], u + 1);
				QA_PRODUCT(6, 2, 4, c[2], u + 2);
				QA_PRODUCT(7, 3, 5, c[3], u + 3);
				for (int i = 0; i < 4; i++) QA_KSCALE(c[i], u + i);
			}
			for (int m = 0; m < QA_N; m++)
				_mm512_store_ps(acc[m], _mm512_fmadd_ps(sacc[m], _mm512_set1_ps(dx[m * nu + b * upb]), _mm512_load_ps(acc[m])));
		}
		for (int m = 0; m < QA_N; m++) _mm512_mask_storeu_ps(o + m * ldo, (__mmask16)((1u << nr) - 1), _mm512_load_ps(acc[m]));
		return;
	}
	__m512 acc[QA_N];
	for (int m = 0; m < QA_N; m++) acc[m] = _mm512_setzero_ps();
	// four units' products, then their scaling: the tile unit's stores of
	// one group overlap the vector work of the last (one ahead measured 115
	// cycles per block and tile here, four 101)
	int u = 0;
	for (; u + 4 <= nu; u += 4) {
		QA_PRODUCT(0, 2, 4, c[0], u);
		QA_PRODUCT(1, 3, 5, c[1], u + 1);
		QA_PRODUCT(6, 2, 4, c[2], u + 2);
		QA_PRODUCT(7, 3, 5, c[3], u + 3);
		for (int i = 0; i < 4; i++) QA_SCALE(c[i], u + i);
	}
	for (; u < nu; u++) {
		QA_PRODUCT(0, 2, 4, c[0], u);
		QA_SCALE(c[0], u);
	}
	for (int m = 0; m < QA_N; m++) _mm512_mask_storeu_ps(o + m * ldo, (__mmask16)((1u << nr) - 1), acc[m]);
}

// qa_matmul: rows [r0, r1) × n tokens, n a multiple of 16 (the caller sends
// the rest to the 512-bit tiles). Every row takes this path whatever the
// row range, so a row's result does not depend on how the rows are cut
// into grabs. The scratch is per call: the row side of one row group, the
// token side of all tokens.
INLINE QA_TARGET void qa_matmul(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, int n, float *o,
                                size_t ldo, int r0, int r1, const int kind) {
	int nu = QA_UNITS(kind) * nb;
	size_t need = (size_t)nu * (16 * QA_UVALS(kind) + 2 * 64) + (size_t)n * nu * 8;
	uint8_t *mem = aligned_alloc(64, (need + 63) / 64 * 64);
	if (!mem) abort();
	int8_t *pk = (int8_t *)mem;
	float *ds = (float *)(mem + (size_t)nu * 16 * QA_UVALS(kind)), *dm = ds + (size_t)nu * 16, *dx = dm + (size_t)nu * 16, *bx = dx + (size_t)n * nu;
	struct qa_ix q;
	qa_ixinit(&q);
	qa_tokens(nb, x, xs, n, kind, dx, bx);
	qa_config(QA_UVALS(kind));
	for (int r = r0; r < r1; r += QA_N) {
		int nr = r1 - r < QA_N ? r1 - r : QA_N;
		qa_packrows(&q, nb, w + (size_t)r * rb, rb, nr, kind, pk, ds, dm);
		for (int t = 0; t < n; t += QA_N)
			qa_tile(nu, kind, pk, ds, dm, x + (size_t)t * xs, xs, dx + (size_t)t * nu, bx + (size_t)t * nu, o + (size_t)t * ldo + r, ldo, nr);
	}
	_tile_release();
	free(mem);
}

static QA_TARGET void qa_q8_0(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, int n, float *o, size_t ldo,
                              int r0, int r1) {
	qa_matmul(nb, w, rb, x, xs, n, o, ldo, r0, r1, QA_Q8_0);
}

static QA_TARGET void qa_q4_K(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, int n, float *o, size_t ldo,
                              int r0, int r1) {
	qa_matmul(nb, w, rb, x, xs, n, o, ldo, r0, r1, QA_Q4_K);
}

static QA_TARGET void qa_q6_K(int nb, const uint8_t *w, size_t rb, const uint8_t *x, size_t xs, int n, float *o, size_t ldo,
                              int r0, int r1) {
	qa_matmul(nb, w, rb, x, xs, n, o, ldo, r0, r1, QA_Q6_K);
}
