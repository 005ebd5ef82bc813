//go:build cgo

// Attention over the F32 KV cache. Plain C written so compilers vectorise
// it (16 independent partial sums, no float reassociation needed); the
// same body is compiled again for AVX2 and AVX-512 via target attributes.
#include "kernels.h"
#include <math.h>

#define INLINE static inline __attribute__((always_inline))

INLINE void attend_body(const float *q, int group, int hd, const float *k, const float *v,
                        int len, float scale, float *sc, float *out) {
	for (int i = 0; i < group; i++) {
		const float *qi = q + (size_t)i * hd;
		float best = -INFINITY;
		for (int j = 0; j < len; j++) {
			const float *kj = k + (size_t)j * hd;
			float acc[16] = {0};
			int c = 0;
			for (; c + 16 <= hd; c += 16)
				for (int u = 0; u < 16; u++) acc[u] += qi[c + u] * kj[c + u];
			float s = 0;
			for (int u = 0; u < 16; u++) s += acc[u];
			for (; c < hd; c++) s += qi[c] * kj[c];
			s *= scale;
			sc[j] = s;
			if (s > best) best = s;
		}
		float sum = 0;
		for (int j = 0; j < len; j++) {
			float e = expf(sc[j] - best);
			sc[j] = e;
			sum += e;
		}
		float inv = 1 / sum, *oi = out + (size_t)i * hd;
		for (int c = 0; c < hd; c++) oi[c] = 0;
		for (int j = 0; j < len; j++) {
			float p = sc[j] * inv;
			const float *vj = v + (size_t)j * hd;
			for (int c = 0; c < hd; c++) oi[c] += p * vj[c];
		}
	}
}

static void attend_portable(const float *q, int group, int hd, const float *k, const float *v,
                            int len, float scale, float *sc, float *out) {
	attend_body(q, group, hd, k, v, len, scale, sc, out);
}

#if defined(__x86_64__) && !defined(RB_NO_X86) // RB_NO_X86: check the non-x86 build here
__attribute__((target("avx2,fma"))) static void attend_avx2(const float *q, int group, int hd, const float *k,
                                                            const float *v, int len, float scale, float *sc, float *out) {
	attend_body(q, group, hd, k, v, len, scale, sc, out);
}

__attribute__((target("avx512f"))) static void attend_avx512(const float *q, int group, int hd, const float *k,
                                                             const float *v, int len, float scale, float *sc, float *out) {
	attend_body(q, group, hd, k, v, len, scale, sc, out);
}
#endif

// mode comes from the Go side, which only passes modes rb_simd() reported.
void rb_attend(int mode, const float *q, int group, int hd, const float *k, const float *v,
               int len, float scale, float *sc, float *out) {
#if defined(__x86_64__) && !defined(RB_NO_X86) // RB_NO_X86: check the non-x86 build here
	if (mode >= 2) {
		if (!rb_attend_zmm(mode, q, group, hd, k, v, len, scale, sc, out)) attend_avx512(q, group, hd, k, v, len, scale, sc, out);
		return;
	}
	if (mode == 1) {
		attend_avx2(q, group, hd, k, v, len, scale, sc, out);
		return;
	}
#endif
	(void)mode;
	attend_portable(q, group, hd, k, v, len, scale, sc, out);
}
