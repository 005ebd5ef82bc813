// C kernels of package kernels; see kernels.c.
#include <stddef.h>
#include <stdint.h>

// rb_matmul: out[t*ldo + r] = sum_c x[t*cols + c] * w[r][c] for r in
// [r0,r1), t in [0,n). dtype: 0 F32, 1 F16, 2 BF16. mode: 0 portable C,
// 1 AVX2 (for BF16, x permuted per full 16-block: 8 even then 8 odd
// elements; the tail natural), 2 AVX-512 (x natural), 3 (the AMX mode)
// as 2, AMX-BF16 being rb_matmul_split's; where the CPU lacks the SIMD (rb_simd() below
// min(mode, 2)) portable C runs, which wants x natural.
void rb_matmul(int mode, int dtype, const void *w, int cols, const float *x, int n,
               float *out, int ldo, int r0, int r1);
uint64_t rb_stream_sum(const void *p, size_t n);
int rb_simd(void); // 0 none, 1 AVX2+FMA+F16C, 2 also AVX-512F

// rb_swiglu: gate[i] = silu(gate[i]) · up[i] for i < n; mode as rb_matmul.
void rb_swiglu(int mode, float *gate, const float *up, size_t n);

// rb_attend_zmm: rb_attend's AVX-512 kernel for head sizes that are a
// multiple of 16 up to 128 (kernels_avx512.h, which has the vector exp); 0
// where it does not apply.
int rb_attend_zmm(int mode, const float *q, int group, int hd, const float *k, const float *v, int len, float scale,
                  float *sc, float *out);
// rb_attend: softmax attention of `group` query heads q [group][hd] over
// len cached rows k, v [len][hd]; sc is scratch [group][len], out [group][hd].
void rb_attend(int mode, const float *q, int group, int hd, const float *k, const float *v,
               int len, float scale, float *sc, float *out);

// rb_quantize_acts: nvals activations into Q8_0 (k 0) or Q8_K (k 1)
// blocks (see quant.go), every mode (as rb_matmul's) the same bytes.
// rb_qmatmul: out[t*ldo + r] = row r of the quantized w (dtype 3..7) ·
// token t of xq, for r in [r0,r1), t < n; mode as rb_matmul (2 = AVX-512
// VNNI, 3 = that and AMX-INT8 for Q8_0/Q4_K/Q6_K prefill). rb_qsimd: what
// the CPU offers for it (3 only once Linux granted the tile state).
void rb_quantize_acts(int mode, int k, const float *x, int nvals, void *dst);
void rb_qmatmul(int mode, int dtype, const void *w, int cols, const void *xq, int n,
                float *out, int ldo, int r0, int r1);
int rb_qsimd(void);

// BF16/F16 prefill on AMX-BF16 (famx.c). rb_famx: 1 where it runs.
// rb_bf16_split: n tokens of x [n][cols] as BF16 parts per value into xs,
// np ≥ n tokens of rb_bf16_split_words(cols) words each (tokens n..np-1
// zeros; a product reads n rounded up to 16). rb_matmul_split: rb_matmul's product for
// dtype 1 or 2 from xs; 0 (nothing done) where AMX-BF16 is not usable.
int rb_famx(void);
size_t rb_bf16_split_words(int cols);
void rb_bf16_split(const float *x, int n, int cols, int np, uint16_t *xs);
int rb_matmul_split(int dtype, const void *w, int cols, const uint16_t *xs, int n, float *out, int ldo, int r0, int r1);

// rb_pool: threads that run matrix products with the caller (cpool.c).
// rb_pool_matmuls runs nprod ≤ RB_MAXPROD products of n tokens of width
// cols: product i has meta[4i..4i+3] = dtype, rows, rows per chunk, input
// kind (1: x in BF16 parts, rb_matmul_split), weights wi, input ini (x for
// float weights, quantized x for dtype ≥ 3, or the BF16 parts) and
// output outi [n][rows]; it returns 1 when all are done, or 0 at once if
// they need more than 2^20-1 row chunks (the caller runs them otherwise).
#define RB_MAXPROD 3
typedef struct rb_pool rb_pool;
rb_pool *rb_pool_new(int threads);
void rb_pool_free(rb_pool *p);
int rb_pool_matmuls(rb_pool *p, int mode, int n, int cols, int nprod, const int *meta,
                     const void *w0, const void *in0, float *out0,
                     const void *w1, const void *in1, float *out1,
                     const void *w2, const void *in2, float *out2);
