/* bench.c — latency of an exported qemlc runtime, the same way `qemlc bench` measures the JIT:
 * wall time per inference (run_spectrogram: the network on its input; run_signal: front end
 * included), after warm-up runs, as min / p50 / p90 in milliseconds.
 *
 *   cc -O2 -std=c11 -fno-math-errno -DMODEL_HEADER='"qemlnet-edge.h"' -DPREFIX=qemlnet_edge \
 *      -o bench bench.c qemlnet-edge_runtime.c qemlnet-edge.o -lm
 *   ./bench qemlnet-edge.weights [warmup] [iterations]
 */
#define _POSIX_C_SOURCE 199309L
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define API(name) CAT(PREFIX, CAT(_, name))

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, int n, double q) { return v[(int)fmin(n - 1, floor(q * n))]; }

int main(int argc, char **argv) {
    const char *weights = argc > 1 ? argv[1] : "model.weights";
    const int warmup = argc > 2 ? atoi(argv[2]) : 5, iterations = argc > 3 ? atoi(argv[3]) : 30;
    API(context) *ctx = API(create)(NULL, 0);
    if (!ctx) return 1;
    int s = API(load_weights_file)(ctx, weights);
    if (s) { fprintf(stderr, "%s\n", API(error)(ctx)); return 1; }
    static float input[16 * 256 * 256];
    const int pixels = CAT(CAT(PREFIX_UPPER, _), INPUT_HEIGHT) * CAT(CAT(PREFIX_UPPER, _), INPUT_WIDTH);
    for (int i = 0; i < pixels; i++) input[i] = sinf(i * 0.37f);
    static float signal[1 << 20];
    const int samples = CAT(CAT(PREFIX_UPPER, _), SIGNAL_LENGTH);
    for (int i = 0; i < samples; i++) signal[i] = 0.5f * sinf(i * 0.21f) + 0.2f * sinf(i * 1.7f);
    double *times = malloc(sizeof(double) * (size_t)iterations);
    for (int mode = 0; mode < 2; mode++) {
        if (mode == 1 && samples == 0) break;
        for (int i = 0; i < warmup + iterations; i++) {
            const double t0 = now_ms();
            s = mode == 0 ? API(run_spectrogram)(ctx, input) : API(run_signal)(ctx, signal, (size_t)samples);
            const double t1 = now_ms();
            if (s) { fprintf(stderr, "%s\n", API(error)(ctx)); return 1; }
            if (i >= warmup) times[i - warmup] = t1 - t0;
        }
        qsort(times, (size_t)iterations, sizeof(double), by_value);
        printf("{\"mode\": \"%s\", \"min\": %.4f, \"p50\": %.4f, \"p90\": %.4f}\n", mode == 0 ? "network" : "signal",
               times[0], quantile(times, iterations, 0.5), quantile(times, iterations, 0.9));
    }
    free(times);
    API(destroy)(ctx);
    return 0;
}
