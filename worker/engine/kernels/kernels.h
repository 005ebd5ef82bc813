// C kernels of package kernels; see kernels.c.
#include <stddef.h>
#include <stdint.h>

// rb_matmul (simd: use AVX2 when rb_simd() says the CPU has it): out[t*ldo + r] = sum_c x[t*cols + c] * w[r][c] for r in [r0,r1),
// t in [0,n). dtype: 0 F32, 1 F16, 2 BF16. For BF16, x is permuted per full
// 16-block (8 even then 8 odd elements); the tail is natural.
void rb_matmul(int simd, int dtype, const void *w, int cols, const float *x, int n,
               float *out, int ldo, int r0, int r1);
uint64_t rb_stream_sum(const void *p, size_t n);
int rb_simd(void);
