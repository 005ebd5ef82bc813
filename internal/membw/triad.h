#include <stddef.h>

void rb_triad(double *a, const double *b, const double *c, double s, size_t lo, size_t hi);
