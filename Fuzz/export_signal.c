/* libFuzzer harness: bytes → the exported C program's signal path (qemlnet-tiny export).
 *
 * The first byte picks the path:
 *  - even: the bytes after it are a file for main.c's read_signal, named .f32 when bit 1 is set
 *    (raw float32) and .wav otherwise (RIFF chunks, fmt, extensible, data), and what it reads
 *    goes to qemlnet_tiny_run_signal;
 *  - odd: the bytes after it are float32 samples (NaN, Inf, subnormal, huge, any length up to
 *    -max_len / 4) given straight to qemlnet_tiny_run_signal.
 * A run must end with a status: ERROR_NONFINITE for a NaN or Inf anywhere, else a top class in
 * range and finite probabilities that sum to 1. main.c is included with its main renamed.
 * Built by scripts/fuzz.sh export-signal against a fresh `qemlc export` of examples/qemlnet-tiny.qir.
 */
#define main classify_main
#include "main.c"
#undef main

#include <math.h>
#include <unistd.h>

static qemlnet_tiny_context *ctx;
static char scratch[64];
static void remove_scratch(void) { unlink(scratch); }  /* libFuzzer exits normally at -max_total_time */

static void run(const float *samples, size_t count) {
    int status = qemlnet_tiny_run_signal(ctx, samples, count);
    if (count == 0) {
        if (status != QEMLNET_TINY_ERROR_ARGUMENT) abort();
        return;
    }
    int finite = 1;
    for (size_t i = 0; i < count && finite; i++) finite = isfinite(samples[i]);
    if (!finite) {  /* NaN or Inf anywhere: refused with its own status, never a class */
        if (status != QEMLNET_TINY_ERROR_NONFINITE) { fprintf(stderr, "non-finite signal: status %d\n", status); abort(); }
        return;
    }
    if (status != QEMLNET_TINY_OK) { fprintf(stderr, "run_signal: %s\n", qemlnet_tiny_error(ctx)); abort(); }
    int top = qemlnet_tiny_top_class(ctx);
    if (top < 0 || top >= QEMLNET_TINY_CLASSES) abort();
    {
        const float *p = qemlnet_tiny_probabilities(ctx);
        double sum = 0;
        for (int i = 0; i < QEMLNET_TINY_CLASSES; i++) {
            if (!isfinite(p[i]) || p[i] < 0) { fprintf(stderr, "probability %d is %g for a finite signal\n", i, p[i]); abort(); }
            sum += p[i];
        }
        if (fabs(sum - 1) > 1e-3) { fprintf(stderr, "probabilities sum to %g\n", sum); abort(); }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) {
        ctx = qemlnet_tiny_create(NULL, 0);
        const char *weights = getenv("QEMLC_FUZZ_WEIGHTS");
        if (!ctx || !weights || qemlnet_tiny_load_weights_file(ctx, weights) != QEMLNET_TINY_OK) {
            fprintf(stderr, "set QEMLC_FUZZ_WEIGHTS to the export's qemlnet-tiny.weights\n");
            abort();
        }
        atexit(remove_scratch);
    }
    if (size == 0) return 0;
    if (data[0] & 1) {
        size_t count = (size - 1) / 4;
        float *samples = malloc((count ? count : 1) * sizeof(float));
        if (!samples) return 0;
        memcpy(samples, data + 1, count * 4);
        run(samples, count);
        free(samples);
        return 0;
    }
    /* read_signal takes raw floats only from .f32/.raw: bit 1 of the first byte picks the name. */
    remove_scratch();
    snprintf(scratch, sizeof scratch, "/dev/shm/qemlc-fuzz-signal-%d.%s", (int)getpid(), (data[0] & 2) ? "f32" : "wav");
    FILE *f = fopen(scratch, "wb");
    if (!f) return 0;
    size_t wrote = fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    if (wrote != size - 1) return 0;
    size_t count = 0;
    int rate = 0;
    float *samples = read_signal(scratch, &count, &rate);
    if (!samples) return 0;
    run(samples, count);
    free(samples);
    return 0;
}
