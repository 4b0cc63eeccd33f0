/*
 * qeml_runtime.c — the runtime around the kernels of an exported model: the context and its one
 * allocation, the weights loader and its checks, the step driver calling every kernel (and
 * circuit) of the plan in order over one arena at constant offsets, the front end's entry
 * points and the stream. The same in every export: <model>_runtime.c (generated) defines the
 * model's tables, then includes this file, qeml_frontend.c and qeml_circuit.c, so the whole
 * runtime is one translation unit whose only external names carry the model's prefix.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QEML_STR_(x) #x
#define QEML_STR(x) QEML_STR_(x)
#define ROUND64(bytes) (((size_t)(bytes) + 63) / 64 * 64)

#if QEML_C(HAS_FRONTEND)
#include "qeml_frontend.c"
#endif
#if QEML_CIRCUITS
#include "qeml_circuit.c"
#endif

struct QEML(context) {
    float *arena;
    float *outputs;
    double *circuit_work;
    float *fe_work;
    float *fe_padded, *fe_spec, *fe_resized, *fe_last;
    float *stream_ring, *stream_window;  /* the last SIGNAL_LENGTH samples; one window, in order */
    float *stream_spec, *stream_need;    /* each channel's spectrogram of the last window; frames to compute (bytes) */
    size_t stream_hop, stream_total, stream_last_end;
    int stream_previous;                 /* stream_spec holds the previous full window */
    const unsigned char *weights;        /* the payload: a block at weights + its byte offset */
    void *weights_owned;                 /* malloc'd by load_weights_file */
    void *memory_owned;                  /* malloc'd by create */
    int top;
    int has_run;
    char message[512];
};
_Static_assert(sizeof(struct QEML(context)) <= CONTEXT_STRUCT_BOUND, "context struct grew past its bound");

/* The context's regions after the struct, each 64-byte aligned; qemlc computes the same sum. */
#define REGION_ARENA ROUND64(QEML_C(ARENA_BYTES))
#define REGION_OUTPUTS ROUND64(OUTPUT_FLOATS * sizeof(float))
#define REGION_CIRCUIT ROUND64(CIRCUIT_WORK_DOUBLES * sizeof(double))
#if QEML_C(HAS_FRONTEND)
#define REGION_FRONTEND (ROUND64(FE_WORK_FLOATS * sizeof(float)) + ROUND64(FE_PADDED_FLOATS * sizeof(float)) \
    + ROUND64(FE_SPEC_FLOATS * sizeof(float)) + ROUND64(FE_OUT_FLOATS * sizeof(float)) + 2 * ROUND64(FE_LENGTH * sizeof(float)) \
    + ROUND64(FE_CHANNELS * FE_SPEC_FLOATS * sizeof(float)) + ROUND64(FE_FRAMES))
#else
#define REGION_FRONTEND 0
#endif
_Static_assert(CONTEXT_STRUCT_BOUND + 64 + REGION_ARENA + REGION_OUTPUTS + REGION_CIRCUIT + REGION_FRONTEND == QEML_C(CONTEXT_BYTES),
               "the context's regions add up to CONTEXT_BYTES");

const char *QEML(version)(void) { return QEML_C(VERSION); }
const char *QEML(model_hash)(void) { return QEML_C(MODEL_HASH); }
const char *QEML(target)(void) { return QEML_C(TARGET); }

static int fail(QEML(context) *ctx, int status, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(ctx->message, sizeof ctx->message, format, args);
    va_end(args);
    return status;
}

size_t QEML(context_bytes)(void) { return QEML_C(CONTEXT_BYTES); }

QEML(context) *QEML(create)(void *memory, size_t bytes) {
    void *owned = NULL;
    if (!memory) {
        owned = memory = malloc(QEML_C(CONTEXT_BYTES));
        bytes = QEML_C(CONTEXT_BYTES);
        if (!memory) return NULL;
    }
    if (bytes < QEML_C(CONTEXT_BYTES)) return NULL;
    memset(memory, 0, QEML_C(CONTEXT_BYTES));
    QEML(context) *ctx = (QEML(context) *)memory;
    unsigned char *at = (unsigned char *)memory + CONTEXT_STRUCT_BOUND;
    at += (64 - ((uintptr_t)at & 63)) & 63;
    ctx->arena = (float *)(void *)at; at += REGION_ARENA;
    ctx->outputs = (float *)(void *)at; at += REGION_OUTPUTS;
    ctx->circuit_work = (double *)(void *)at; at += REGION_CIRCUIT;
#if QEML_C(HAS_FRONTEND)
    ctx->fe_work = (float *)(void *)at; at += ROUND64(FE_WORK_FLOATS * sizeof(float));
    ctx->fe_padded = (float *)(void *)at; at += ROUND64(FE_PADDED_FLOATS * sizeof(float));
    ctx->fe_spec = (float *)(void *)at; at += ROUND64(FE_SPEC_FLOATS * sizeof(float));
    ctx->fe_resized = (float *)(void *)at; at += ROUND64(FE_OUT_FLOATS * sizeof(float));
    ctx->stream_ring = (float *)(void *)at; at += ROUND64(FE_LENGTH * sizeof(float));
    ctx->stream_window = (float *)(void *)at; at += ROUND64(FE_LENGTH * sizeof(float));
    ctx->stream_spec = (float *)(void *)at; at += ROUND64(FE_CHANNELS * FE_SPEC_FLOATS * sizeof(float));
    ctx->stream_need = (float *)(void *)at;
#endif
    ctx->memory_owned = owned;
    ctx->top = -1;
    return ctx;
}

void QEML(destroy)(QEML(context) *ctx) {
    if (!ctx) return;
    free(ctx->weights_owned);
    ctx->weights_owned = NULL;
    free(ctx->memory_owned);
}

/* ---- weights ---- */

const char *QEML(error)(const QEML(context) *ctx) { return ctx ? ctx->message : "no context"; }

const char *QEML(status_string)(int status) {
    switch (status) {
    case QEML_C(OK): return "ok";
    case QEML_C(ERROR_ARGUMENT): return "invalid argument";
    case QEML_C(ERROR_IO): return "cannot read the weights file";
    case QEML_C(ERROR_WEIGHTS_FORMAT): return "not a qemlc weights file";
    case QEML_C(ERROR_WEIGHTS_MODEL): return "weights for another model or target";
    case QEML_C(ERROR_WEIGHTS_SIZE): return "weights of the wrong size";
    case QEML_C(ERROR_WEIGHTS_CHECKSUM): return "weights checksum mismatch (corrupt file)";
    case QEML_C(ERROR_WEIGHTS_ALIGNMENT): return "weights buffer not 64-byte aligned";
    case QEML_C(ERROR_NO_WEIGHTS): return "no weights loaded";
    case QEML_C(ERROR_NO_FRONTEND): return "the model has no front end";
    case QEML_C(ERROR_MEMORY): return "out of memory";
    case QEML_C(ERROR_NONFINITE): return "non-finite input (NaN or Inf)";
    default: return "unknown status";
    }
}

static uint64_t read_le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Checks a weights image: magic, format version, model hash, sizes, checksum (WeightsImage in qemlc). */
static int check_weights(QEML(context) *ctx, const unsigned char *d, size_t bytes, const char *origin) {
    static const unsigned char magic[8] = {'Q', 'E', 'M', 'L', 'W', 'T', 'S', 0};
    if (bytes < WEIGHTS_HEADER)
        return fail(ctx, QEML_C(ERROR_WEIGHTS_SIZE), "%s: %zu bytes, shorter than the 64-byte header of a weights file (expected %llu bytes)",
                    origin, bytes, (unsigned long long)QEML_C(WEIGHTS_BYTES));
    if (memcmp(d, magic, 8) != 0)
        return fail(ctx, QEML_C(ERROR_WEIGHTS_FORMAT), "%s is not a qemlc weights file (no QEMLWTS magic)", origin);
    if (read_le(d + 8, 4) != WEIGHTS_FORMAT_VERSION || read_le(d + 12, 4) != WEIGHTS_HEADER)
        return fail(ctx, QEML_C(ERROR_WEIGHTS_FORMAT), "%s has weights format version %llu; this runtime reads version %d (re-export with this qemlc)",
                    origin, (unsigned long long)read_le(d + 8, 4), WEIGHTS_FORMAT_VERSION);
    if (read_le(d + 16, 8) != MODEL_HASH)
        return fail(ctx, QEML_C(ERROR_WEIGHTS_MODEL), "%s was packed for model %016llx, this runtime is model %s (\"%s\" on %s); export the weights together with this runtime",
                    origin, (unsigned long long)read_le(d + 16, 8), QEML_C(MODEL_HASH), QEML_C(MODEL_NAME), QEML_C(TARGET));
    if (read_le(d + 24, 8) != WEIGHTS_PAYLOAD || bytes != WEIGHTS_HEADER + WEIGHTS_PAYLOAD)
        return fail(ctx, QEML_C(ERROR_WEIGHTS_SIZE), "%s has %zu bytes, this model's weights have %llu (truncated or padded file?)",
                    origin, bytes, (unsigned long long)(WEIGHTS_HEADER + WEIGHTS_PAYLOAD));
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = WEIGHTS_HEADER; i + 8 <= bytes; i += 8) h = (h ^ read_le(d + i, 8)) * 0x100000001b3ull;
    if (h != read_le(d + 32, 8))
        return fail(ctx, QEML_C(ERROR_WEIGHTS_CHECKSUM), "%s is corrupt: checksum %016llx, the header says %016llx",
                    origin, (unsigned long long)h, (unsigned long long)read_le(d + 32, 8));
    return QEML_C(OK);
}

int QEML(load_weights)(QEML(context) *ctx, const void *data, size_t bytes) {
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
    if (!data) return fail(ctx, QEML_C(ERROR_ARGUMENT), "load_weights: the buffer is NULL");
    if ((uintptr_t)data & 63) return fail(ctx, QEML_C(ERROR_WEIGHTS_ALIGNMENT), "load_weights: the buffer must be 64-byte aligned");
    int status = check_weights(ctx, (const unsigned char *)data, bytes, "the weights buffer");
    if (status != QEML_C(OK)) return status;
    free(ctx->weights_owned);
    ctx->weights_owned = NULL;
    ctx->weights = (const unsigned char *)data + WEIGHTS_HEADER;
    return QEML_C(OK);
}

int QEML(load_weights_file)(QEML(context) *ctx, const char *path) {
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
    if (!path) return fail(ctx, QEML_C(ERROR_ARGUMENT), "load_weights_file: the path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return fail(ctx, QEML_C(ERROR_IO), "cannot open %s", path);
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return fail(ctx, QEML_C(ERROR_IO), "cannot read %s", path); }
    if ((unsigned long long)size != WEIGHTS_HEADER + WEIGHTS_PAYLOAD) {
        /* Read the header anyway: a wrong magic or model explains more than a wrong size. */
        unsigned char head[WEIGHTS_HEADER];
        size_t got = fread(head, 1, sizeof head, f);
        fclose(f);
        int status = check_weights(ctx, head, got, path);
        if (status == QEML_C(OK) || status == QEML_C(ERROR_WEIGHTS_SIZE))
            return fail(ctx, QEML_C(ERROR_WEIGHTS_SIZE), "%s has %ld bytes, this model's weights have %llu (truncated or padded file?)",
                        path, size, (unsigned long long)(WEIGHTS_HEADER + WEIGHTS_PAYLOAD));
        return status;
    }
    unsigned char *raw = (unsigned char *)malloc((size_t)size + 64);
    if (!raw) { fclose(f); return fail(ctx, QEML_C(ERROR_MEMORY), "cannot allocate %ld bytes for %s", size, path); }
    unsigned char *data = raw + ((64 - ((uintptr_t)raw & 63)) & 63);
    size_t got = fread(data, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) { free(raw); return fail(ctx, QEML_C(ERROR_IO), "cannot read %s (got %zu of %ld bytes)", path, got, size); }
    int status = check_weights(ctx, data, (size_t)size, path);
    if (status != QEML_C(OK)) { free(raw); return status; }
    free(ctx->weights_owned);
    ctx->weights_owned = raw;
    ctx->weights = data + WEIGHTS_HEADER;
    return QEML_C(OK);
}

#if QEML_C(EMBEDDED_WEIGHTS)
/* The weights file's bytes, 64-byte aligned, in <model>.o. */
extern const unsigned char QEML(weights_image)[QEML_C(WEIGHTS_BYTES)];
#endif

int QEML(load_embedded_weights)(QEML(context) *ctx) {
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
#if QEML_C(EMBEDDED_WEIGHTS)
    return QEML(load_weights)(ctx, QEML(weights_image), sizeof QEML(weights_image));
#else
    return fail(ctx, QEML_C(ERROR_NO_WEIGHTS), "this runtime was exported without --embed-weights: load %s", QEML_C(WEIGHTS_FILE));
#endif
}

/* ---- the network ---- */

/* Every step of the plan, in order, over one arena (offsets in floats); a step's weight block
   starts at its byte offset in the payload. */
static void run_steps(QEML(context) *ctx) {
    float *a = ctx->arena;
    for (int i = 0; i < QEML_STEPS; i++) {
        const qeml_step *s = &steps[i];
        const void *block = ctx->weights + (s->block >= 0 ? s->block : 0);
        if (s->kind == QEML_STEP_KERNEL) {
            float *b[QEML_MAX_BUFFERS];
            for (int j = 0; j < s->buffers; j++) b[j] = a + step_offsets[s->first + j];
            s->kernel(b, (const float *)block, 0, s->items);
        }
#if QEML_CIRCUITS
        else {
            qeml_circuit_run(&circuits[s->items], (const double *)block, a + step_offsets[s->first],
                             a + step_offsets[s->first + s->buffers - 1], ctx->circuit_work);
        }
#endif
    }
}

/* Plain [C][HW] -> blocked [C/LANES][HW][LANES] (padded lanes zero), and back. */
static void block(const float *src, float *dst, int channels, int hw) {
    for (int cb = 0; cb < (channels + LANES - 1) / LANES; cb++)
        for (int p = 0; p < hw; p++)
            for (int l = 0; l < LANES; l++) {
                const int ch = cb * LANES + l;
                dst[(cb * hw + p) * LANES + l] = ch < channels ? src[ch * hw + p] : 0.0f;
            }
}

static void unblock(const float *src, float *dst, int channels, int hw) {
    for (int ch = 0; ch < channels; ch++)
        for (int p = 0; p < hw; p++) dst[ch * hw + p] = src[((ch / LANES) * hw + p) * LANES + ch % LANES];
}

/* The index of the first NaN or Inf in x[0..n), or n. Tests the exponent bits, so it
   holds under -ffast-math too (where isfinite may be folded to 1). */
static size_t first_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], 4);
        if ((bits & 0x7f800000u) == 0x7f800000u) return i;
    }
    return n;
}

static const char *nonfinite_name(float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    return (bits & 0x007fffffu) ? "NaN" : (bits >> 31) ? "-Inf" : "+Inf";
}

#define NO_WEIGHTS_MESSAGE "no weights loaded: call " QEML_STR(QEML(load_weights_file)) " first"

int QEML(run_spectrogram)(QEML(context) *ctx, const float *input) {
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
    if (!input) return fail(ctx, QEML_C(ERROR_ARGUMENT), "run_spectrogram: the input is NULL");
    if (!ctx->weights) return fail(ctx, QEML_C(ERROR_NO_WEIGHTS), NO_WEIGHTS_MESSAGE);
    {
        const size_t n = (size_t)QEML_C(INPUT_CHANNELS) * QEML_C(INPUT_HEIGHT) * QEML_C(INPUT_WIDTH);
        const size_t bad = first_nonfinite(input, n);
        if (bad < n) return fail(ctx, QEML_C(ERROR_NONFINITE), "input value %zu: %s is not a finite number", bad, nonfinite_name(input[bad]));
    }
    block(input, ctx->arena + INPUT_OFFSET, QEML_C(INPUT_CHANNELS), QEML_C(INPUT_HEIGHT) * QEML_C(INPUT_WIDTH));
    run_steps(ctx);
    size_t at = 0;
    for (int o = 0; o < QEML_C(OUTPUTS); o++) {
        unblock(ctx->arena + outputs[o].offset, ctx->outputs + at, outputs[o].channels, outputs[o].hw);
        at += (size_t)outputs[o].channels * outputs[o].hw;
    }
    const float *probs = ctx->outputs + CLASS_START;
    int top = 0;
    for (int i = 1; i < QEML_C(CLASSES); i++) if (probs[i] > probs[top]) top = i;
    ctx->top = top;
    ctx->has_run = 1;
    ctx->message[0] = 0;
    return QEML_C(OK);
}

const float *QEML(probabilities)(const QEML(context) *ctx) { return ctx && ctx->has_run ? ctx->outputs + CLASS_START : NULL; }
int QEML(top_class)(const QEML(context) *ctx) { return ctx && ctx->has_run ? ctx->top : -1; }
const char *QEML(label)(int index) { return index >= 0 && index < QEML_C(CLASSES) ? labels[index] : NULL; }
const char *QEML(output_name)(int index) { return index >= 0 && index < QEML_C(OUTPUTS) ? output_names[index] : NULL; }

const float *QEML(output)(const QEML(context) *ctx, int index, size_t *count) {
    if (!ctx || !ctx->has_run || index < 0 || index >= QEML_C(OUTPUTS)) return NULL;
    size_t start = 0;
    for (int i = 0; i < index; i++) start += (size_t)outputs[i].channels * outputs[i].hw;
    if (count) *count = (size_t)outputs[index].channels * outputs[index].hw;
    return ctx->outputs + start;
}

/* ---- signals: the front end, one-shot and streaming ---- */

#if QEML_C(HAS_FRONTEND)
int QEML(run_signal)(QEML(context) *ctx, const float *signal, size_t count) {
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
    if (!signal || count == 0) return fail(ctx, QEML_C(ERROR_ARGUMENT), "run_signal: the signal is empty");
    if (!ctx->weights) return fail(ctx, QEML_C(ERROR_NO_WEIGHTS), NO_WEIGHTS_MESSAGE);
    {
        const size_t bad = first_nonfinite(signal, count);
        if (bad < count) return fail(ctx, QEML_C(ERROR_NONFINITE), "sample %zu: %s is not a finite number", bad, nonfinite_name(signal[bad]));
    }
    ctx->fe_last = fe_run(signal, count, ctx->fe_padded, ctx->fe_work, ctx->fe_spec, ctx->fe_resized);
    return QEML(run_spectrogram)(ctx, ctx->fe_last);
}

const float *QEML(spectrogram)(const QEML(context) *ctx) { return ctx ? ctx->fe_last : NULL; }

int QEML(stream_init)(QEML(context) *ctx, size_t hop) {
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
    ctx->stream_hop = hop ? hop : QEML_C(STREAM_HOP_DEFAULT);
    QEML(stream_reset)(ctx);
    return QEML_C(OK);
}

void QEML(stream_reset)(QEML(context) *ctx) {
    if (!ctx) return;
    ctx->stream_total = 0;
    ctx->stream_last_end = 0;
    ctx->stream_previous = 0;
}

/* Frames may be reused across windows unless the scale is dB (rescaled in place by the map's peak). */
#define FE_STREAM_REUSE (FE_SCALE != FE_SCALE_DB)

/* Classifies the `have` samples that end at stream position `end` and reports them. */
static int stream_window(QEML(context) *ctx, size_t end, size_t have, int kind, QEML(on_result) on_result, void *user) {
    for (size_t i = 0; i < have; i++) ctx->stream_window[i] = ctx->stream_ring[(end - have + i) % QEML_C(SIGNAL_LENGTH)];
    /* A frame of this window that lies away from both padded edges, here and shift frames
       later in the previous window, is the same numbers: move it instead of computing it. */
    unsigned char *need = (unsigned char *)(void *)ctx->stream_need;
    const size_t shift = ctx->stream_hop / FE_HOP;
    const int reuse = FE_STREAM_REUSE && kind == QEML_C(WINDOW_FULL) && ctx->stream_previous && ctx->stream_hop % FE_HOP == 0 && shift < FE_FRAMES;
    for (int t = 0; t < FE_FRAMES; t++) {
        const long at = (long)t * FE_HOP - FE_PAD, later = (long)(t + shift) * FE_HOP - FE_PAD;
        need[t] = !(reuse && at >= 0 && t + shift < FE_FRAMES && later + FE_NFFT <= FE_LENGTH);
    }
    if (reuse) {
        for (int ch = 0; ch < FE_CHANNELS; ch++) {
            for (int b = 0; b < FE_BINS; b++) {
                float *row = ctx->stream_spec + (size_t)ch * FE_SPEC_FLOATS + (size_t)b * FE_FRAMES;
                for (int t = 0; t < FE_FRAMES; t++) if (!need[t]) row[t] = row[t + shift];
            }
        }
    }
    const int frames = fe_frames(ctx->stream_window, have, ctx->fe_padded, ctx->fe_work, ctx->stream_spec, FE_SPEC_FLOATS, need, ctx->fe_resized);
    ctx->stream_previous = kind == QEML_C(WINDOW_FULL);
    ctx->fe_last = ctx->fe_resized;
    const int status = QEML(run_spectrogram)(ctx, ctx->fe_resized);
    if (status != QEML_C(OK)) return status;
    QEML(stream_result) r;
    r.end_seconds = (double)end / QEML_C(SAMPLE_RATE);
    r.start_seconds = (double)(end - have) / QEML_C(SAMPLE_RATE);
    r.top = ctx->top;
    r.label = QEML(label)(ctx->top);
    r.probabilities = QEML(probabilities)(ctx);
    r.kind = kind;
    r.samples = have;
    r.new_samples = end - ctx->stream_last_end;
    r.frames_computed = frames;
    ctx->stream_last_end = end;
    if (on_result) on_result(&r, user);
    return QEML_C(OK);
}

int QEML(stream_push)(QEML(context) *ctx, const float *samples, size_t count, QEML(on_result) on_result, void *user) {
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
    if (!ctx->stream_hop) return fail(ctx, QEML_C(ERROR_ARGUMENT), "stream_push: call stream_init first");
    if (count && !samples) return fail(ctx, QEML_C(ERROR_ARGUMENT), "stream_push: samples is NULL");
    if (!ctx->weights) return fail(ctx, QEML_C(ERROR_NO_WEIGHTS), NO_WEIGHTS_MESSAGE);
    {
        const size_t bad = first_nonfinite(samples, count);
        if (bad < count) return fail(ctx, QEML_C(ERROR_NONFINITE), "stream sample %zu: %s is not a finite number", ctx->stream_total + bad, nonfinite_name(samples[bad]));
    }
    for (size_t i = 0; i < count; i++) {
        ctx->stream_ring[ctx->stream_total % QEML_C(SIGNAL_LENGTH)] = samples[i];
        const size_t t = ++ctx->stream_total;
        if (t >= QEML_C(SIGNAL_LENGTH) && (t - QEML_C(SIGNAL_LENGTH)) % ctx->stream_hop == 0) {
            const int status = stream_window(ctx, t, QEML_C(SIGNAL_LENGTH), QEML_C(WINDOW_FULL), on_result, user);
            if (status != QEML_C(OK)) return status;
        }
    }
    return QEML_C(OK);
}

int QEML(stream_finish)(QEML(context) *ctx, QEML(on_result) on_result, void *user) {
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
    const size_t t = ctx->stream_total;
    if (t == 0 || t == ctx->stream_last_end) return QEML_C(OK);
    if (t < QEML_C(SIGNAL_LENGTH)) return stream_window(ctx, t, t, QEML_C(WINDOW_SHORT), on_result, user);
    return stream_window(ctx, t, QEML_C(SIGNAL_LENGTH), QEML_C(WINDOW_FINAL), on_result, user);
}
#else
int QEML(run_signal)(QEML(context) *ctx, const float *signal, size_t count) {
    (void)signal; (void)count;
    if (!ctx) return QEML_C(ERROR_ARGUMENT);
    return fail(ctx, QEML_C(ERROR_NO_FRONTEND), "the model has no frontend section: use %s", QEML_STR(QEML(run_spectrogram)));
}

const float *QEML(spectrogram)(const QEML(context) *ctx) { (void)ctx; return NULL; }
#endif
