/* main.c — classify signals with an exported model (the same file in every export; model.h names the model).
 *
 *   ./classify [--weights FILE] [--spectrogram-out FILE] SIGNAL...
 *   ./classify [--weights FILE] --stream [--format s16le|f32le] [--sample-rate HZ] [--json] -|SIGNAL.wav
 *
 * SIGNAL is a WAV file (PCM 16-bit or float 32-bit; the first channel), or raw little-endian
 * float32 samples in a .f32/.raw file or on stdin (-); for a model without a frontend section, a raw file holds
 * the network input itself. For each signal, prints `label probability` lines,
 * highest first (with several signals, a `file:` line before each).
 * With --stream (models with a frontend), the signal is pushed through the streaming API: one line per
 * window, `t=12.25 outer_race 0.97` (or a JSON object per line with --json), a window of
 * QEML_C(SIGNAL_LENGTH) samples every QEML_C(STREAM_HOP_DEFAULT); from stdin (-) as raw s16le (default) or f32le
 * PCM until EOF, e.g. `arecord -f S16_LE -r RATE -c 1 -t raw | ./classify --stream -`
 * (RATE: QEML_C(SAMPLE_RATE)).
 * Without --weights, <model>.weights is looked for beside this program, then in the working directory
 * (or, exported with --embed-weights, the weights inside <model>.o are used).
 * Exit status: 0 ok, 1 bad input or weights (message on stderr), 64 usage.
 */
#define _DEFAULT_SOURCE  /* readlink */
#include "model.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_BAD_INPUT = 1, EXIT_USAGE = 64 };

static uint32_t u32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Does path end in suffix (ignoring case)? */
static int ends_with(const char *path, const char *suffix) {
    size_t n = strlen(path), m = strlen(suffix);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++)
        if (tolower((unsigned char)path[n - m + i]) != tolower((unsigned char)suffix[i])) return 0;
    return 1;
}

/* The whole file (or stdin for "-"), or NULL with a message. */
static unsigned char *slurp(const char *path, size_t *size) {
    const int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) { fprintf(stderr, "error: %s: no such file\n", path); return NULL; }
    size_t cap = 1 << 16, n = 0;
    unsigned char *data = (unsigned char *)malloc(cap);
    while (data) {
        if (n == cap) {
            unsigned char *bigger = (unsigned char *)realloc(data, cap * 2);
            if (!bigger) { free(data); data = NULL; break; }
            data = bigger;
            cap *= 2;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    const int failed = !data || ferror(f);
    if (!is_stdin) fclose(f);
    if (failed) { free(data); fprintf(stderr, "error: %s: cannot be read\n", path); return NULL; }
    *size = n;
    return data;
}

/* A WAV file's first channel (PCM16 or float32), with qemlc's checks and words. */
static float *read_wav(const char *path, const unsigned char *d, size_t size, size_t *count, int *rate) {
    int format = 0, channels = 0, bits = 0;
    const unsigned char *data = NULL;
    size_t data_bytes = 0, data_at = 0;
    for (size_t at = 12; at + 8 <= size;) {
        const size_t len = u32(d + at + 4), remaining = size - at - 8;
        const unsigned char *body = d + at + 8;
        if (len > remaining) {
            if (memcmp(d + at, "data", 4) == 0)
                fprintf(stderr, "error: %s: byte %zu: the data chunk says %zu bytes but only %zu follow\n"
                                "  fix: the file is truncated or its header lies: export it again\n", path, at, len, remaining);
            else
                fprintf(stderr, "error: %s: byte %zu: chunk '%c%c%c%c' says %zu bytes but only %zu follow\n"
                                "  fix: the file is truncated or corrupt: export it again\n", path, at,
                        isprint(d[at]) ? d[at] : '?', isprint(d[at + 1]) ? d[at + 1] : '?',
                        isprint(d[at + 2]) ? d[at + 2] : '?', isprint(d[at + 3]) ? d[at + 3] : '?', len, remaining);
            return NULL;
        }
        if (memcmp(d + at, "fmt ", 4) == 0 && len >= 16) {
            format = u16(body);
            channels = u16(body + 2);
            *rate = (int)u32(body + 4);
            bits = u16(body + 14);
            if (format == 0xFFFE && len >= 26) format = u16(body + 24);  /* WAVE_FORMAT_EXTENSIBLE */
        } else if (memcmp(d + at, "data", 4) == 0) {
            data = body;
            data_bytes = len;
            data_at = at;
        }
        at += 8 + len + (len & 1);
    }
    if (!data || format == 0) {
        fprintf(stderr, "error: %s: the WAV file has no %s chunk (truncated or not a recording?)\n",
                path, format == 0 ? "fmt" : "data");
        return NULL;
    }
    if (channels < 1 || !((format == 1 && bits == 16) || (format == 3 && bits == 32))) {
        fprintf(stderr, "error: %s: only PCM 16-bit and float 32-bit WAV files are read (format %d, %d bits, %d channels)\n",
                path, format, bits, channels);
        return NULL;
    }
    const size_t frame = (size_t)channels * (size_t)(bits / 8);
    if (data_bytes % frame != 0) {
        fprintf(stderr, "error: %s: byte %zu: the data chunk (%zu bytes) is not a whole number of %zu-byte frames\n"
                        "  fix: the file is truncated: export it again\n", path, data_at, data_bytes, frame);
        return NULL;
    }
    *count = data_bytes / frame;
    float *out = (float *)malloc((*count ? *count : 1) * sizeof(float));
    for (size_t i = 0; out && i < *count; i++) {
        const unsigned char *s = data + i * frame;
        if (format == 1) {
            out[i] = (float)(int16_t)u16(s) / 32768.0f;
        } else {
            uint32_t bitsv = u32(s);
            memcpy(&out[i], &bitsv, 4);
        }
    }
    return out;
}

/* A WAV file, or raw float32 samples from a .f32/.raw file or stdin (-). */
static float *read_signal(const char *path, size_t *count, int *rate) {
    const int raw = strcmp(path, "-") == 0 || ends_with(path, ".f32") || ends_with(path, ".raw");
    const int wav = ends_with(path, ".wav") || ends_with(path, ".wave");
    if (!raw && !wav) {
        const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
        fprintf(stderr, "error: %s: file name: unknown signal format '%s'\n"
                        "  fix: give a .wav file, or raw little-endian float32 samples as a .f32/.raw file or on stdin (-)\n",
                path, dot && (!slash || dot > slash) ? dot : "(no extension)");
        return NULL;
    }
    size_t size = 0;
    unsigned char *d = slurp(path, &size);
    if (!d) return NULL;
    float *out = NULL;
    *rate = 0;
    if (size >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WAVE", 4) == 0) {
        out = read_wav(path, d, size, count, rate);
        free(d);
        if (!out) return NULL;
    } else if (wav) {
        fprintf(stderr, "error: %s: byte 0: not a WAV file (expected 'RIFF' … 'WAVE')\n"
                        "  fix: pass a .wav recording, or raw float32 samples as a .f32/.raw file\n", path);
        free(d);
        return NULL;
    } else {
        if (size % 4 != 0) {
            fprintf(stderr, "error: %s: %zu bytes is not a whole number of float32 samples (a multiple of 4)\n", path, size);
            free(d);
            return NULL;
        }
        *count = size / 4;
        out = (float *)malloc((*count ? *count : 1) * sizeof(float));
        for (size_t i = 0; out && i < *count; i++) {
            uint32_t bitsv = u32(d + 4 * i);
            memcpy(&out[i], &bitsv, 4);
        }
        free(d);
    }
    if (!out) fprintf(stderr, "error: out of memory reading %s\n", path);
    return out;
}

#if !QEML_C(EMBEDDED_WEIGHTS)
/* The weights file when --weights is not given: beside this program, then in the working
   directory. Returns the path found (in buffer) or NULL after naming the places searched. */
static const char *find_weights(const char *argv0, char *buffer, size_t size) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) self[n] = 0;
    else snprintf(self, sizeof self, "%s", argv0);
    char *slash = strrchr(self, '/');
    char beside[sizeof self + sizeof QEML_C(WEIGHTS_FILE) + 16];
    if (slash) { *slash = 0; snprintf(beside, sizeof beside, "%s/%s", self, QEML_C(WEIGHTS_FILE)); }
    else snprintf(beside, sizeof beside, "./%s", QEML_C(WEIGHTS_FILE));
    const char *places[2] = {beside, QEML_C(WEIGHTS_FILE)};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(places[i], "rb");
        if (f) { fclose(f); snprintf(buffer, size, "%s", places[i]); return buffer; }
    }
    fprintf(stderr, "error: %s not found; looked beside the program (%s) and in the working directory\n"
                    "  fix: pass --weights FILE\n", QEML_C(WEIGHTS_FILE), beside);
    return NULL;
}
#endif

static const float *sort_probs;
static int by_probability(const void *a, const void *b) {
    const float x = sort_probs[*(const int *)a], y = sort_probs[*(const int *)b];
    return x < y ? 1 : x > y ? -1 : *(const int *)a - *(const int *)b;
}

#if QEML_C(HAS_FRONTEND)
/* --stream: one line (or JSON object) per window, as `qemlc run --stream` prints them. */
static void print_window(const QEML(stream_result) *r, void *user) {
    if (*(const int *)user) {
        printf("{\"t\": %.6g, \"start\": %.6g, \"label\": \"%s\", \"p\": %.6g, \"window\": \"%s\", \"probs\": {",
               r->end_seconds, r->start_seconds, r->label, r->probabilities[r->top],
               r->kind == QEML_C(WINDOW_SHORT) ? "short" : r->kind == QEML_C(WINDOW_FINAL) ? "final" : "full");
        for (int i = 0; i < QEML_C(CLASSES); i++) printf("%s\"%s\": %.6g", i ? ", " : "", QEML(label)(i), r->probabilities[i]);
        printf("}}\n");
    } else {
        printf("t=%.2f %s %.2f", r->end_seconds, r->label, r->probabilities[r->top]);
        if (r->kind == QEML_C(WINDOW_SHORT)) printf(" (short window: %zu of %d samples, zero-padded)", r->samples, QEML_C(SIGNAL_LENGTH));
        else if (r->kind == QEML_C(WINDOW_FINAL)) printf(" (final window: %zu new samples)", r->new_samples);
        printf("\n");
    }
    fflush(stdout);
}

static int stream_status(QEML(context) *ctx, int status) {
    if (status == QEML_C(OK)) return 0;
    fprintf(stderr, "error: %s (%s)\n", QEML(error)(ctx), QEML(status_string)(status));
    return EXIT_BAD_INPUT;
}

/* Pushes a WAV/raw file in pieces of 1000 samples, or stdin's s16le/f32le PCM as it arrives. */
static int run_stream(QEML(context) *ctx, const char *path, const char *format, int json) {
    QEML(stream_init)(ctx, 0);
    if (strcmp(path, "-") != 0) {
        size_t count = 0;
        int rate = 0;
        float *signal = read_signal(path, &count, &rate);
        if (!signal) return EXIT_BAD_INPUT;
        if (rate != 0 && rate != QEML_C(SAMPLE_RATE)) {
            fprintf(stderr, "error: %s is sampled at %d Hz; the model expects %d Hz (resample it first)\n", path, rate, QEML_C(SAMPLE_RATE));
            free(signal);
            return EXIT_BAD_INPUT;
        }
        int status = QEML_C(OK);
        for (size_t at = 0; status == QEML_C(OK) && at < count; at += 1000)
            status = QEML(stream_push)(ctx, signal + at, count - at < 1000 ? count - at : 1000, print_window, &json);
        free(signal);
        if (status == QEML_C(OK)) status = QEML(stream_finish)(ctx, print_window, &json);
        return stream_status(ctx, status);
    }
    const size_t width = strcmp(format, "s16le") == 0 ? 2 : 4;
    unsigned char bytes[4096 * 4];
    float samples[4096];
    size_t kept = 0, got;
    while ((got = fread(bytes + kept, 1, 4096 * width - kept, stdin)) > 0) {  /* at most 4096 samples */
        const size_t have = kept + got, n = have / width;
        for (size_t i = 0; i < n; i++) {
            if (width == 2) samples[i] = (float)(int16_t)u16(bytes + 2 * i) / 32768.0f;
            else { const uint32_t b = u32(bytes + 4 * i); memcpy(&samples[i], &b, 4); }
        }
        const int status = QEML(stream_push)(ctx, samples, n, print_window, &json);
        if (status != QEML_C(OK)) return stream_status(ctx, status);
        kept = have - n * width;
        memmove(bytes, bytes + n * width, kept);
    }
    if (kept) fprintf(stderr, "note: %zu trailing bytes at the end of the input are not a whole sample\n", kept);
    return stream_status(ctx, QEML(stream_finish)(ctx, print_window, &json));
}

#endif
static int usage(const char *argv0, FILE *to) {
    fprintf(to, "usage: %s [--weights FILE] [--spectrogram-out FILE] SIGNAL.wav|SIGNAL.f32|- ...\n"
                "       %s [--weights FILE] --stream [--format s16le|f32le] [--sample-rate HZ] [--json] -|SIGNAL.wav\n"
                "model %s (%s), hash %s, runtime %s\n", argv0, argv0, QEML_C(MODEL_NAME), QEML(target)(), QEML(model_hash)(), QEML(version)());
    return to == stdout ? 0 : EXIT_USAGE;
}

int main(int argc, char **argv) {
    const char *weights = NULL, *spectrogram_out = NULL, *format = NULL;
    int first = 1, stream = 0, json = 0, sample_rate = 0;
    while (first < argc && strncmp(argv[first], "--", 2) == 0) {
        if (strcmp(argv[first], "--help") == 0) return usage(argv[0], stdout);
        if (strcmp(argv[first], "--") == 0) { first++; break; }
        if (strcmp(argv[first], "--stream") == 0) { stream = 1; first++; continue; }
        if (strcmp(argv[first], "--json") == 0) { json = 1; first++; continue; }
        const int known = strcmp(argv[first], "--weights") == 0 || strcmp(argv[first], "--spectrogram-out") == 0
            || strcmp(argv[first], "--format") == 0 || strcmp(argv[first], "--sample-rate") == 0;
        if (!known) { fprintf(stderr, "error: unknown option %s\n", argv[first]); return usage(argv[0], stderr); }
        if (first + 1 >= argc) { fprintf(stderr, "error: %s needs a value\n", argv[first]); return usage(argv[0], stderr); }
        if (strcmp(argv[first], "--weights") == 0) weights = argv[first + 1];
        else if (strcmp(argv[first], "--format") == 0) format = argv[first + 1];
        else if (strcmp(argv[first], "--sample-rate") == 0) sample_rate = atoi(argv[first + 1]);
        else spectrogram_out = argv[first + 1];
        first += 2;
    }
    if (first >= argc) return usage(argv[0], stderr);
    if (!stream && (json || sample_rate || format)) {
        fprintf(stderr, "error: --json, --format and --sample-rate go with --stream\n");
        return usage(argv[0], stderr);
    }
    if (!format) format = "s16le";
    if (stream && (!QEML_C(HAS_FRONTEND) || argc - first != 1 || spectrogram_out || (strcmp(format, "s16le") != 0 && strcmp(format, "f32le") != 0)
                   || (sample_rate && sample_rate != QEML_C(SAMPLE_RATE)))) {
        fprintf(stderr, "error: --stream takes one signal (- for stdin), --format s16le or f32le, and the model's sample rate (%d Hz)%s\n",
                QEML_C(SAMPLE_RATE), QEML_C(HAS_FRONTEND) ? "" : "; this model has no frontend");
        return usage(argv[0], stderr);
    }
    QEML(context) *ctx = QEML(create)(NULL, 0);
    if (!ctx) { fprintf(stderr, "error: cannot allocate the context (%zu bytes)\n", QEML(context_bytes)()); return EXIT_BAD_INPUT; }
    int status;
#if QEML_C(EMBEDDED_WEIGHTS)
    if (!weights) status = QEML(load_embedded_weights)(ctx);
    else status = QEML(load_weights_file)(ctx, weights);
#else
    char found[4096 + sizeof QEML_C(WEIGHTS_FILE) + 16];
    if (!weights) weights = find_weights(argv[0], found, sizeof found);
    if (!weights) { QEML(destroy)(ctx); return EXIT_BAD_INPUT; }
    status = QEML(load_weights_file)(ctx, weights);
#endif
    if (status != QEML_C(OK)) {
        fprintf(stderr, "error: %s (%s)\n", QEML(error)(ctx), QEML(status_string)(status));
        QEML(destroy)(ctx);
        return EXIT_BAD_INPUT;
    }
    int result = 0;
#if QEML_C(HAS_FRONTEND)
    if (stream) { result = run_stream(ctx, argv[first], format, json); QEML(destroy)(ctx); return result; }
#else
    (void)json;
#endif
    for (int a = first; a < argc; a++) {
        size_t count = 0;
        int rate = 0;
        float *signal = read_signal(argv[a], &count, &rate);
        if (!signal) { result = EXIT_BAD_INPUT; continue; }
        if (rate != 0 && QEML_C(SAMPLE_RATE) != 0 && rate != QEML_C(SAMPLE_RATE)) {
            fprintf(stderr, "error: %s is sampled at %d Hz; the model expects %d Hz (resample it first)\n", argv[a], rate, QEML_C(SAMPLE_RATE));
            free(signal);
            result = EXIT_BAD_INPUT;
            continue;
        }
#if QEML_C(HAS_FRONTEND)
        status = QEML(run_signal)(ctx, signal, count);
#else
        /* No frontend section: the file holds the network input itself (raw float32). */
        const size_t need = (size_t)QEML_C(INPUT_CHANNELS) * QEML_C(INPUT_HEIGHT) * QEML_C(INPUT_WIDTH);
        if (count != need) {
            fprintf(stderr, "error: %s has %zu values; the model's input takes %zu (channels x height x width, float32)\n", argv[a], count, need);
            free(signal);
            result = EXIT_BAD_INPUT;
            continue;
        }
        status = QEML(run_spectrogram)(ctx, signal);
#endif
        free(signal);
        if (status != QEML_C(OK)) {
            fprintf(stderr, "error: %s: %s (%s)\n", argv[a], QEML(error)(ctx), QEML(status_string)(status));
            if (status == QEML_C(ERROR_NONFINITE)) fprintf(stderr, "  fix: qemlc refuses non-finite input; clean the data first (numpy: np.isfinite(x).all())\n");
            result = EXIT_BAD_INPUT;
            continue;
        }
        if (spectrogram_out && QEML(spectrogram)(ctx)) {
            FILE *f = fopen(spectrogram_out, "wb");
            const size_t n = (size_t)QEML_C(INPUT_CHANNELS) * QEML_C(INPUT_HEIGHT) * QEML_C(INPUT_WIDTH);
            if (!f || fwrite(QEML(spectrogram)(ctx), sizeof(float), n, f) != n) {
                fprintf(stderr, "error: cannot write %s\n", spectrogram_out);
                result = EXIT_BAD_INPUT;
            }
            if (f) fclose(f);
        }
        const float *probs = QEML(probabilities)(ctx);
        int order[QEML_C(CLASSES)];
        for (int i = 0; i < QEML_C(CLASSES); i++) order[i] = i;
        sort_probs = probs;
        qsort(order, QEML_C(CLASSES), sizeof order[0], by_probability);
        if (argc - first > 1) printf("%s:\n", argv[a]);
        for (int i = 0; i < QEML_C(CLASSES); i++) printf("%s %.9g\n", QEML(label)(order[i]), probs[order[i]]);
    }
    QEML(destroy)(ctx);
    return result;
}

