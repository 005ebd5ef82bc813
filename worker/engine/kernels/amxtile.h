// What both AMX products share (qamx.h for quantized weights, famx.c for
// BF16/F16): the tile configuration's layout and the transpose that turns
// 16 rows of 32-bit groups into a B tile. Needs INLINE and <immintrin.h>.
#ifndef RB_AMXTILE_H
#define RB_AMXTILE_H
#define AMX_TARGET __attribute__((target("avx2,avx512f,avx512vl,avx512bw,amx-tile")))

struct qa_cfg {
	uint8_t palette, start_row, reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
};

// The three rounds of two-register permutes that transpose 16 rows × 8
// groups of 4 bytes into 8 × 16 (a B tile).
struct qa_ix {
	__m512i r1[2], r2[2], r3[2];
};

static AMX_TARGET void qa_ixinit(struct qa_ix *q) {
	int32_t ix[3][2][16] __attribute__((aligned(64)));
	for (int e = 0; e < 16; e++) {
		int t = e / 4, k = e % 4; // round 1: four rows × groups 0-3 (4-7)
		ix[0][0][e] = (t >= 2 ? 16 : 0) + (t % 2) * 8 + k;
		ix[0][1][e] = ix[0][0][e] + 4;
		t = e / 2, k = e % 2; // round 2: eight rows × a pair of groups
		ix[1][0][e] = (t >= 4 ? 16 : 0) + 4 * (t % 4) + k;
		ix[1][1][e] = ix[1][0][e] + 2;
		ix[2][0][e] = (e >= 8 ? 16 : 0) + 2 * (e % 8); // round 3: 16 rows × one group
		ix[2][1][e] = ix[2][0][e] + 1;
	}
	for (int h = 0; h < 2; h++) {
		q->r1[h] = _mm512_load_si512(ix[0][h]);
		q->r2[h] = _mm512_load_si512(ix[1][h]);
		q->r3[h] = _mm512_load_si512(ix[2][h]);
	}
}

// pk[k·64 + i·4 + j] = byte 4k + j of rows[i]: one B tile.
INLINE AMX_TARGET void qa_transpose(const struct qa_ix *q, const __m256i rows[16], int8_t *pk) {
	__m512i z[8], u[8], v[8];
	for (int p = 0; p < 8; p++) // rows 2p, 2p+1
		z[p] = _mm512_inserti64x4(_mm512_castsi256_si512(rows[2 * p]), rows[2 * p + 1], 1);
	for (int g = 0; g < 4; g++) // rows 4g..4g+3: u[g] groups 0-3, u[4+g] groups 4-7
		for (int h = 0; h < 2; h++) u[4 * h + g] = _mm512_permutex2var_epi32(z[2 * g], q->r1[h], z[2 * g + 1]);
	for (int s = 0; s < 2; s++) // rows 8s..8s+7, groups 2g, 2g+1 in v[2g + s]
		for (int g = 0; g < 4; g++)
			v[2 * g + s] = _mm512_permutex2var_epi32(u[4 * (g / 2) + 2 * s], q->r2[g % 2], u[4 * (g / 2) + 2 * s + 1]);
	for (int k = 0; k < 8; k++) // all 16 rows, group k
		_mm512_store_si512(pk + 64 * k, _mm512_permutex2var_epi32(v[2 * (k / 2)], q->r3[k % 2], v[2 * (k / 2) + 1]));
}

#endif
