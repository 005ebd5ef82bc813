//go:build cgo

// A pool of C threads for matrix products. Hand-written because the Go
// scheduler puts a goroutine woken by a channel on the waker's own P, so a
// worker (or the caller waiting for the last chunk) starts only after a
// steal or a time slice: ~30 µs per dispatch, two per product, ~110
// products per decoded token. These threads spin briefly on a generation
// counter, then sleep on a condition variable.
#include "kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

// Spin this long for the next job (or the last chunk) before sleeping: it
// covers the serial work between a layer's products.
#define SPIN_NS 100000

typedef struct {
	int mode, n, cols, nprod;
	int dtype[RB_MAXPROD], rows[RB_MAXPROD], grain[RB_MAXPROD], split[RB_MAXPROD], first[RB_MAXPROD + 1];
	const void *w[RB_MAXPROD], *in[RB_MAXPROD];
	float *out[RB_MAXPROD];
} job_t;

struct rb_pool {
	int nthreads; // C threads besides the caller
	pthread_t *th;
	job_t job;
	// ticket: generation << 40 | chunks << 20 | next chunk, taken with a
	// CAS. It carries the chunk count so that a thread still in the
	// previous job never reads the job while it is being rewritten: a
	// successful CAS of generation g with next < chunks means job g is live.
	_Atomic uint64_t ticket;
	_Atomic int done, stop, sleepers, waiting;
	_Atomic uint32_t gen;
	pthread_mutex_t mu;
	pthread_cond_t work, finished;
};

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void run_chunk(const job_t *j, int c) {
	int p = 0;
	while (c >= j->first[p + 1]) p++;
	int lo = (c - j->first[p]) * j->grain[p], hi = lo + j->grain[p];
	if (hi > j->rows[p]) hi = j->rows[p];
	if (j->split[p]) {
		if (!rb_matmul_split(j->dtype[p], j->w[p], j->cols, j->in[p], j->n, j->out[p], j->rows[p], lo, hi)) abort();
	} else if (j->dtype[p] >= 3)
		rb_qmatmul(j->mode, j->dtype[p], j->w[p], j->cols, j->in[p], j->n, j->out[p], j->rows[p], lo, hi);
	else
		rb_matmul(j->mode, j->dtype[p], j->w[p], j->cols, j->in[p], j->n, j->out[p], j->rows[p], lo, hi);
}

#define GEN_MASK 0xffffffu
#define CHUNK_MASK 0xfffffu // RB_MAXCHUNKS

// work takes chunks of generation g until none are left.
static void work(rb_pool *p, uint32_t g) {
	for (;;) {
		uint64_t t = atomic_load(&p->ticket);
		int next = (int)(t & CHUNK_MASK), total = (int)(t >> 20 & CHUNK_MASK);
		if ((uint32_t)(t >> 40) != (g & GEN_MASK) || next >= total) return;
		if (!atomic_compare_exchange_weak(&p->ticket, &t, t + 1)) continue;
		run_chunk(&p->job, next);
		if (atomic_fetch_add(&p->done, 1) + 1 == total && atomic_load(&p->waiting)) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_broadcast(&p->finished);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

static void *thread_main(void *arg) {
	rb_pool *p = arg;
	uint32_t seen = 0;
	for (;;) {
		uint64_t until = now_ns() + SPIN_NS;
		for (int i = 0; atomic_load(&p->gen) == seen && !atomic_load(&p->stop); i++) {
			CPU_RELAX();
			if ((i & 255) == 255 && now_ns() > until) {
				pthread_mutex_lock(&p->mu);
				atomic_fetch_add(&p->sleepers, 1);
				while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->work, &p->mu);
				atomic_fetch_sub(&p->sleepers, 1);
				pthread_mutex_unlock(&p->mu);
			}
		}
		if (atomic_load(&p->stop)) return NULL;
		seen = atomic_load(&p->gen);
		work(p, seen);
	}
}

rb_pool *rb_pool_new(int threads) {
	rb_pool *p = calloc(1, sizeof *p);
	if (!p) return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->finished, NULL);
	p->th = calloc(threads > 0 ? (size_t)threads : 1, sizeof *p->th);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->th[i], NULL, thread_main, p) != 0) break;
		p->nthreads++;
	}
	return p;
}

void rb_pool_free(rb_pool *p) {
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, 1);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++) pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->finished);
	pthread_mutex_destroy(&p->mu);
	free(p->th);
	free(p);
}

int rb_pool_matmuls(rb_pool *p, int mode, int n, int cols, int nprod, const int *meta,
                     const void *w0, const void *in0, float *out0,
                     const void *w1, const void *in1, float *out1,
                     const void *w2, const void *in2, float *out2) {
	job_t *j = &p->job;
	const void *ws[3] = {w0, w1, w2}, *ins[3] = {in0, in1, in2};
	float *outs[3] = {out0, out1, out2};
	j->mode = mode, j->n = n, j->cols = cols, j->nprod = nprod, j->first[0] = 0;
	for (int i = 0; i < nprod; i++) {
		j->dtype[i] = meta[4 * i], j->rows[i] = meta[4 * i + 1], j->grain[i] = meta[4 * i + 2], j->split[i] = meta[4 * i + 3];
		j->w[i] = ws[i], j->in[i] = ins[i], j->out[i] = outs[i];
		j->first[i + 1] = j->first[i] + (j->rows[i] + j->grain[i] - 1) / j->grain[i];
	}
	int total = j->first[nprod];
	if (total > (int)CHUNK_MASK) return 0;
	uint32_t g = atomic_load(&p->gen) + 1;
	atomic_store(&p->done, 0);
	atomic_store(&p->ticket, (uint64_t)(g & GEN_MASK) << 40 | (uint64_t)total << 20);
	atomic_store(&p->gen, g); // publishes the job (seq_cst)
	if (atomic_load(&p->sleepers) > 0) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
	work(p, g);
	uint64_t until = now_ns() + SPIN_NS;
	for (int i = 0; atomic_load(&p->done) != total; i++) {
		CPU_RELAX();
		if ((i & 255) == 255 && now_ns() > until) {
			pthread_mutex_lock(&p->mu);
			atomic_store(&p->waiting, 1);
			while (atomic_load(&p->done) != total) pthread_cond_wait(&p->finished, &p->mu);
			atomic_store(&p->waiting, 0);
			pthread_mutex_unlock(&p->mu);
		}
	}
	return 1;
}
