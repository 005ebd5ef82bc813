// Scalar half/bfloat16 conversions shared by the C kernels.
#ifndef RB_FP16_H
#define RB_FP16_H
#include <stdint.h>
#include <string.h>

static inline float bf16_f32(uint16_t b) {
	uint32_t u = (uint32_t)b << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static inline float f16_f32(uint16_t h) {
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
	if (exp == 0x1f) {
		u = sign | 0x7f800000 | mant << 13;
	} else if (exp != 0) {
		u = sign | (exp + 112) << 23 | mant << 13;
	} else if (mant == 0) {
		u = sign;
	} else {
		float f = (float)mant * (1.0f / 16777216.0f);
		return sign ? -f : f;
	}
	float f;
	memcpy(&f, &u, 4);
	return f;
}

// f32_f16 rounds to the nearest half (ties to even), as vcvtps2ph does.
static inline uint16_t f32_f16(float f) {
	uint32_t u;
	memcpy(&u, &f, 4);
	uint16_t sign = (u >> 16) & 0x8000;
	int e = (int)((u >> 23) & 0xff) - 127 + 15;
	uint32_t m = u & 0x7fffff;
	if ((u & 0x7fffffff) > 0x7f800000) return sign | 0x7e00;
	if (e >= 31) return sign | 0x7c00;
	if (e <= 0) {
		if (e < -10) return sign;
		m |= 0x800000;
		int shift = 14 - e;
		uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
		if (rem > half || (rem == half && (h & 1))) h++;
		return sign | (uint16_t)h;
	}
	uint32_t h = (uint32_t)e << 10 | m >> 13, rem = m & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
	return sign | (uint16_t)h;
}
#endif
