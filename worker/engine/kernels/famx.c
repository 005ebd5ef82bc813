//go:build cgo

// BF16 and F16 prefill on AMX-BF16 (Intel's tile unit), as exact as the
// FMA kernels: every product of a weight and an activation is formed
// without rounding and the sums are kept in floats.
//   - An activation x (24 significant bits) is cut into three BF16 parts
//     x1 + x2 + x3 = x, each the top 8 bits of what the parts before it
//     left (rb_bf16_split, once per dispatch for all its products).
//   - A BF16 weight is one part; an F16 weight (11 bits) two: w1 its top 8
//     bits, w2 = w - w1 the other 3.
//   - The tile unit multiplies BF16 pairs exactly and adds in floats, so
//     Σ w·x = Σ over the parts' products (3 for BF16, 5 for F16) differs
//     from the FMA kernels' sums by the order of float additions and, for
//     F16, the sixth product w2·x3 left out: under 2⁻²² of w·x (|w2| <
//     2⁻⁷|w|, |x3| < 2⁻¹⁵|x|), so the sum stays within the bound of float
//     summation, K·2⁻²⁴·Σ|w·x| for K ≥ 4 values (TestMatMulExactSums),
//     for a sixth less of the tile unit's work.
// Tiles: C 0-3 (2 token groups × 2 row groups of 16, float), A 4-5 (16
// tokens × 32 values of one part), B 6-7 (32 values × 16 rows, in pairs).
// The weights are repacked 32 rows at a time into a scratch (B tiles) and
// reused by every token group; the mapped weights stay the only copy.
#include "kernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && !defined(RB_NO_X86)
#include <cpuid.h>
#include <immintrin.h>
#define INLINE static inline __attribute__((always_inline))
#include "amxtile.h"

#define FA_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,amx-tile,amx-bf16")))

// rb_famx: 1 when the tile state is granted (rb_qsimd 3) and the CPU has
// AMX-BF16; kept, as the CPU's features are (cpuid exits a VM).
int rb_famx(void) {
	static _Atomic int known = -1;
	int k = known;
	if (k < 0) {
		unsigned a, b, c, d;
		k = rb_qsimd() >= 3 && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22));
		known = k;
	}
	return k;
}

// fa_parts: the three BF16 parts of 16 floats, as words, and a fourth:
// the first with infinities as the largest finite values of their sign.
// Inf and NaN are the first part alone (a NaN kept a NaN). An F16 weight's
// second part multiplies the fourth, so an infinity meeting a zero there
// adds 0, not the NaN of inf·0, and the product is the FMA kernels' inf.
INLINE FA_TARGET void fa_parts(__m512 v, __m256i p[4]) {
	const __m512i top = _mm512_set1_epi32((int)0xffff0000), inf = _mm512_set1_epi32(0x7f800000);
	__m512i u = _mm512_castps_si512(v), mag = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
	__mmask16 fin = _mm512_cmplt_epu32_mask(mag, inf), nan = _mm512_cmpgt_epu32_mask(mag, inf);
	__m512i h1 = _mm512_and_si512(u, top);
	h1 = _mm512_mask_or_epi32(h1, nan, h1, _mm512_set1_epi32(0x00400000));
	__m512 r = _mm512_maskz_sub_ps(fin, v, _mm512_castsi512_ps(h1)); // exact: x's low 16 bits
	__m512i h2 = _mm512_and_si512(_mm512_castps_si512(r), top);
	__m512 r2 = _mm512_sub_ps(r, _mm512_castsi512_ps(h2)); // ≤ 8 bits: exact in BF16
	p[0] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(h1, 16));
	p[1] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(h2, 16));
	p[2] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(r2), 16));
	__mmask16 isinf = _mm512_cmpeq_epi32_mask(mag, inf);
	p[3] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_mask_sub_epi32(h1, isinf, h1, _mm512_set1_epi32(0x10000)), 16));
}

// fa_mask: the lanes of 16 that hold the m ≥ 0 values left (all past 16).
INLINE __mmask16 fa_mask(int m) { return m >= 16 ? 0xffff : m > 0 ? (__mmask16)((1u << m) - 1) : 0; }

// The parts' layout in xs, in words: part s (of 4) of token t at t·ts + s·ps.
// Both strides are padded off multiples of 4 KiB: an A tile's 16 rows
// 4 KiB apart share one L1 set (12 ways) and evicted each other, which
// held the tile unit to a quarter of its rate.
static void fa_strides(int cols, size_t *ps, size_t *ts) {
	*ps = (size_t)(cols + 31) / 32 * 32 + 32;
	*ts = 4 * *ps;
	if (*ts / 32 % 2 == 0) *ts += 32;
}

size_t rb_bf16_split_words(int cols) {
	size_t ps, ts;
	fa_strides(cols, &ps, &ts);
	return ts;
}

static FA_TARGET void fa_split(const float *x, int n, int cols, int np, uint16_t *xs) {
	const int c32 = (cols + 31) / 32 * 32;
	size_t ps, ts;
	fa_strides(cols, &ps, &ts);
	for (int t = 0; t < np; t++) {
		uint16_t *o = xs + (size_t)t * ts;
		const float *xt = x + (size_t)t * cols;
		for (int c = 0; c < c32; c += 16) {
			__m256i p[4];
			fa_parts(_mm512_maskz_loadu_ps(fa_mask(t < n ? cols - c : 0), xt + c), p);
			for (int s = 0; s < 4; s++) _mm256_storeu_si256((__m256i *)(o + (size_t)s * ps + c), p[s]);
		}
	}
}

// fa_rowparts: values c..c+15 of a weight row (fewer than 16 left:
// zeros) as BF16 words: p[0] a BF16 row's, or both parts of an F16 row's.
INLINE FA_TARGET void fa_rowparts(int dt, const uint16_t *row, int cols, int c, __m256i p[2]) {
	__m256i v = _mm256_maskz_loadu_epi16(fa_mask(cols - c), row + c);
	if (dt != 1) {
		p[0] = v;
		return;
	}
	__m512 f = _mm512_cvtph_ps(v);
	__m512i hi = _mm512_and_si512(_mm512_castps_si512(f), _mm512_set1_epi32((int)0xffff0000));
	__m512i lo = _mm512_castps_si512(_mm512_sub_ps(f, _mm512_castsi512_ps(hi))); // ≤ 3 bits
	p[0] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(hi, 16));
	p[1] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(lo, 16));
}

// fa_pack: values 32j.. (j < nj; past width: zeros) of rows w + r·stride
// (r < nr ≤ 32, the rest zeros) as B tiles at pk + ((j·2 + g)·nh + h)·1024:
// row group g, part h.
static FA_TARGET void fa_pack(const struct qa_ix *q, int dt, const uint16_t *w, size_t stride, int width, int nr, int nj, int nh,
                              int8_t *pk) {
	__m256i lo[2][16], hi[2][16];
	for (int j = 0; j < nj; j++)
		for (int g = 0; g < 2; g++) {
			for (int i = 0; i < 16; i++) {
				int r = 16 * g + i;
				__m256i pl[2], ph[2];
				if (r < nr) {
					const uint16_t *row = w + (size_t)r * stride;
					fa_rowparts(dt, row, width, 32 * j, pl);
					fa_rowparts(dt, row, width, 32 * j + 16, ph);
				} else {
					pl[0] = pl[1] = ph[0] = ph[1] = _mm256_setzero_si256();
				}
				for (int h = 0; h < nh; h++) lo[h][i] = pl[h], hi[h][i] = ph[h];
			}
			for (int h = 0; h < nh; h++) {
				int8_t *b = pk + ((size_t)(j * 2 + g) * nh + h) * 1024;
				qa_transpose(q, lo[h], b);
				qa_transpose(q, hi[h], b + 512);
			}
		}
}

// Blocks: FA_TOKS tokens × FA_KVALS values of their parts (512 KiB) stay
// in L2 while every 32 rows of a grab pass over them; the sums wait in acc
// between value blocks. Without the blocks the parts of 128 tokens of 5632
// values (4.3 MB) streamed from L3 and the product ran at 2/3 of the speed.
#define FA_TOKS 128
#define FA_KVALS 512

// fa_block: rows r0.. (nr ≤ 32, packed in pk) × the ng token groups at a
// (stride ts), nj values' steps, sums in acc (stride la floats) from zero
// (first) or their last values.
static FA_TARGET void fa_block(const int8_t *pk, int nh, int nj, const uint8_t *a, size_t ps, size_t ts, int ng, float *acc, size_t la,
                               int first) {
	for (int g = 0; g < ng; g += 2) {
		const uint8_t *a0 = a + (size_t)g * 16 * ts, *a1 = a0 + 16 * ts;
		float *c = acc + (size_t)g * 16 * la;
		int two = g + 1 < ng;
		if (first) {
			_tile_zero(0);
			_tile_zero(1);
			_tile_zero(2);
			_tile_zero(3);
		} else {
			_tile_loadd(0, c, la * 4);
			_tile_loadd(1, c + 16, la * 4);
			if (two) {
				_tile_loadd(2, c + 16 * la, la * 4);
				_tile_loadd(3, c + 16 * la + 16, la * 4);
			}
		}
		for (int j = 0; j < nj; j++)
			for (int h = 0; h < nh; h++) {
				const int8_t *b = pk + (size_t)j * 2 * nh * 1024 + (size_t)h * 1024;
				_tile_loadd(6, b, 64);
				_tile_loadd(7, b + (size_t)nh * 1024, 64);
				for (int s = 0; s < 3 - h; s++) { // w2·x3 left out: see the top
					size_t off = (size_t)(s == 0 && h == 1 ? 3 : s) * ps + (size_t)j * 64;
					_tile_loadd(4, a0 + off, ts);
					_tile_dpbf16ps(0, 4, 6);
					_tile_dpbf16ps(1, 4, 7);
					if (two) {
						_tile_loadd(5, a1 + off, ts);
						_tile_dpbf16ps(2, 5, 6);
						_tile_dpbf16ps(3, 5, 7);
					}
				}
			}
		_tile_stored(0, c, la * 4);
		_tile_stored(1, c + 16, la * 4);
		if (two) {
			_tile_stored(2, c + 16 * la, la * 4);
			_tile_stored(3, c + 16 * la + 16, la * 4);
		}
	}
}

static FA_TARGET void fa_matmul(int dt, const void *w, int cols, const uint16_t *xs, int n, float *out, int ldo, int r0, int r1) {
	const int c32 = (cols + 31) / 32 * 32, nh = dt == 1 ? 2 : 1;
	const size_t la = (size_t)(r1 - r0 + 31) / 32 * 32; // acc's row
	size_t ps, ts;
	fa_strides(cols, &ps, &ts);
	ps *= 2, ts *= 2; // in bytes
	int8_t *pk = aligned_alloc(64, (size_t)(FA_KVALS / 32) * 2 * nh * 1024 + (size_t)FA_TOKS * la * 4);
	if (!pk) abort();
	float *acc = (float *)(pk + (size_t)(FA_KVALS / 32) * 2 * nh * 1024);
	struct qa_ix q;
	qa_ixinit(&q);
	struct qa_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.palette = 1;
	for (int i = 0; i < 8; i++) cfg.rows[i] = 16, cfg.colsb[i] = 64;
	_tile_loadconfig(&cfg);
	const uint16_t *w16 = w;
	for (int t0 = 0; t0 < n; t0 += FA_TOKS) {
		int nt = n - t0 < FA_TOKS ? n - t0 : FA_TOKS, ng = (nt + 15) / 16;
		const uint8_t *a = (const uint8_t *)xs + (size_t)t0 * ts;
		for (int k0 = 0; k0 < c32; k0 += FA_KVALS) {
			int nk = c32 - k0 < FA_KVALS ? c32 - k0 : FA_KVALS;
			for (int r = r0; r < r1; r += 32) {
				int nr = r1 - r < 32 ? r1 - r : 32;
				fa_pack(&q, dt, w16 + (size_t)r * cols + k0, (size_t)cols, cols - k0, nr, nk / 32, nh, pk);
				fa_block(pk, nh, nk / 32, a + (size_t)k0 * 2, ps, ts, ng, acc + (r - r0), la, k0 == 0);
			}
		}
		for (int t = 0; t < nt; t++) memcpy(out + (size_t)(t0 + t) * ldo + r0, acc + (size_t)t * la, (size_t)(r1 - r0) * 4);
	}
	_tile_release();
	free(pk);
}

void rb_bf16_split(const float *x, int n, int cols, int np, uint16_t *xs) {
	if (rb_famx()) fa_split(x, n, cols, np, xs);
}

int rb_matmul_split(int dtype, const void *w, int cols, const uint16_t *xs, int n, float *out, int ldo, int r0, int r1) {
	if (!rb_famx() || (dtype != 1 && dtype != 2)) return 0;
	fa_matmul(dtype, w, cols, xs, n, out, ldo, r0, r1);
	return 1;
}
#else
int rb_famx(void) { return 0; }

size_t rb_bf16_split_words(int cols) {
	(void)cols;
	return 0;
}

void rb_bf16_split(const float *x, int n, int cols, int np, uint16_t *xs) {
	(void)x, (void)n, (void)cols, (void)np, (void)xs;
}

int rb_matmul_split(int dtype, const void *w, int cols, const uint16_t *xs, int n, float *out, int ldo, int r0, int r1) {
	(void)dtype, (void)w, (void)cols, (void)xs, (void)n, (void)out, (void)ldo, (void)r0, (void)r1;
	return 0;
}
#endif
