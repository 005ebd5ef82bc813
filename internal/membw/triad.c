#include "triad.h"

// STREAM's triad over [lo, hi): two streams read, one written.
void rb_triad(double *a, const double *b, const double *c, double s, size_t lo, size_t hi) {
	for (size_t i = lo; i < hi; i++) {
		a[i] = b[i] + s * c[i];
	}
}
