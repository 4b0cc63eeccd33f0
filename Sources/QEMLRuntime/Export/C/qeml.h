/*
 * qeml.h — the C API of a runtime exported by qemlc. This file is the same in every export;
 * <model>.h (generated) defines the model's constants and its prefix, then includes it.
 *
 * Every name carries the model's prefix so that several exported models link into one program:
 * QEML(run_signal) is qemlnet_tiny_run_signal for the model qemlnet-tiny, QEML_C(OK) is
 * QEMLNET_TINY_OK. <model>.h shows a complete example with the real names.
 *
 * Memory: a context holds everything a run needs (the arena, the front end's buffers, the
 * outputs); it is allocated once (or placed in memory you provide) and a run allocates nothing.
 * Weights are read-only after loading and may be shared by contexts.
 * Reentrancy: functions touch only their own context; use one context per thread.
 * Every function returning int returns a status (QEML_C(OK) = 0); on error QEML(error)(ctx)
 * returns a message naming what is wrong.
 *
 * No include guard: <model>.h includes it once for its model, with QEML_PREFIX (lower case) and
 * QEML_UPPER (upper case) set to the model's prefix.
 */
#include <stddef.h>

/* The prefix is expanded, the name is not (`_##name`): a macro of the user's named OK or error
   does not change the API's names. */
#ifndef QEML_PASTE
#define QEML_PASTE_(a, b) a##b
#define QEML_PASTE(a, b) QEML_PASTE_(a, b)
#define QEML(name) QEML_PASTE(QEML_PREFIX, _##name)
#define QEML_C(name) QEML_PASTE(QEML_UPPER, _##name)
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    QEML_C(OK) = 0,
    QEML_C(ERROR_ARGUMENT) = 1,          /* a NULL pointer, an empty signal, too little memory */
    QEML_C(ERROR_IO) = 2,                /* the weights file cannot be opened or read */
    QEML_C(ERROR_WEIGHTS_FORMAT) = 3,    /* not a qemlc weights file, or another format version */
    QEML_C(ERROR_WEIGHTS_MODEL) = 4,     /* weights packed for another model or target */
    QEML_C(ERROR_WEIGHTS_SIZE) = 5,      /* truncated or oversized weights */
    QEML_C(ERROR_WEIGHTS_CHECKSUM) = 6,  /* the weights are corrupt */
    QEML_C(ERROR_WEIGHTS_ALIGNMENT) = 7, /* a weights buffer not 64-byte aligned */
    QEML_C(ERROR_NO_WEIGHTS) = 8,        /* run before weights were loaded */
    QEML_C(ERROR_NO_FRONTEND) = 9,       /* run_signal on a model without a frontend section */
    QEML_C(ERROR_MEMORY) = 10,           /* malloc failed */
    QEML_C(ERROR_NONFINITE) = 11         /* a NaN or Inf in the signal or input (the message names its index) */
} QEML(status);

typedef struct QEML(context) QEML(context);

/* The runtime's version, the model hash its weights must carry, the target it was built for. */
const char *QEML(version)(void);
const char *QEML(model_hash)(void);
const char *QEML(target)(void);

/* Bytes a context needs (= QEML_C(CONTEXT_BYTES)). */
size_t QEML(context_bytes)(void);
/* A context in `memory` (at least QEML(context_bytes)() bytes, any alignment), or, with
   memory == NULL, in one malloc. NULL if the memory is too small or malloc fails. */
QEML(context) *QEML(create)(void *memory, size_t bytes);
/* Frees what the context allocated (its memory if create allocated it, weights read from a file). */
void QEML(destroy)(QEML(context) *ctx);

/* Reads and checks <model>.weights (size, format, model hash, checksum) into one allocation. */
int QEML(load_weights_file)(QEML(context) *ctx, const char *path);
/* Checks weights already in memory and uses them in place (no copy): `data` must be 64-byte
   aligned and outlive the context; several contexts may share it. */
int QEML(load_weights)(QEML(context) *ctx, const void *data, size_t bytes);
/* The weights compiled into <model>.o (exported with --embed-weights), else QEML_C(ERROR_NO_WEIGHTS). */
int QEML(load_embedded_weights)(QEML(context) *ctx);

/* Classifies a raw signal sampled at QEML_C(SAMPLE_RATE) Hz: front end, then the network. A NaN or
   Inf sample is refused with QEML_C(ERROR_NONFINITE) (the message names its index), never a class.
   A model without a frontend section returns QEML_C(ERROR_NO_FRONTEND). */
int QEML(run_signal)(QEML(context) *ctx, const float *signal, size_t count);
/* Runs the network on its input (e.g. a spectrogram), plain [channels][height][width] floats;
   a non-finite value is refused with QEML_C(ERROR_NONFINITE). */
int QEML(run_spectrogram)(QEML(context) *ctx, const float *input);

/* After a successful run: the class probabilities (QEML_C(CLASSES) floats), the most probable class. */
const float *QEML(probabilities)(const QEML(context) *ctx);
int QEML(top_class)(const QEML(context) *ctx);
/* A class's label, or NULL out of range. */
const char *QEML(label)(int index);
/* Any model output by index (< QEML_C(OUTPUTS)): its floats (plain, per sample) and name. */
const float *QEML(output)(const QEML(context) *ctx, int index, size_t *count);
const char *QEML(output_name)(int index);
/* The front end's output (the network input) for the last run_signal, plain
   [QEML_C(INPUT_CHANNELS)][QEML_C(INPUT_HEIGHT)][QEML_C(INPUT_WIDTH)]; NULL for a model without a
   frontend section. */
const float *QEML(spectrogram)(const QEML(context) *ctx);

#if QEML_C(HAS_FRONTEND)
/* Streaming (push form): a stream keeps the last QEML_C(SIGNAL_LENGTH) samples in a ring inside the
   context and classifies that window every `hop` samples: windows end at SIGNAL_LENGTH,
   SIGNAL_LENGTH + hop, …, as `qemlc run --stream` does. `on_result` is called from inside
   push for each window, with the window's end time and its probabilities (valid during the
   call). finish classifies what came after the last window (a final window ending at the
   last sample), or, for a stream shorter than a window, one short zero-padded window.
   No memory is allocated while streaming; one context per stream (contexts on several
   threads are independent). The STFT is incremental: when the hop is a multiple of the front
   end's hop, frames a window shares with the previous one (those away from its padded edges)
   are reused, and only the new ones are computed (frames_computed says how many). */
typedef enum { QEML_C(WINDOW_FULL) = 0, QEML_C(WINDOW_FINAL) = 1, QEML_C(WINDOW_SHORT) = 2 } QEML(window_kind);
typedef struct {
    double end_seconds, start_seconds;  /* the window's samples [start, end) since the stream began */
    int top;                            /* the most probable class, and its label */
    const char *label;
    const float *probabilities;         /* QEML_C(CLASSES) floats */
    int kind;                           /* QEML(window_kind) */
    size_t samples;                     /* samples in the window (short: fewer than SIGNAL_LENGTH) */
    size_t new_samples;                 /* samples since the previous window's end */
    int frames_computed;                /* STFT frames computed for this window, all channels (the rest reused) */
} QEML(stream_result);
typedef void (*QEML(on_result))(const QEML(stream_result) *result, void *user);
/* Starts (or restarts) a stream classifying every `hop` samples (0: QEML_C(STREAM_HOP_DEFAULT)). */
int QEML(stream_init)(QEML(context) *ctx, size_t hop);
/* Forgets the stream's samples (the hop stays). */
void QEML(stream_reset)(QEML(context) *ctx);
/* Appends `count` samples; a NaN or Inf is refused with QEML_C(ERROR_NONFINITE) before any is kept. */
int QEML(stream_push)(QEML(context) *ctx, const float *samples, size_t count, QEML(on_result) on_result, void *user);
/* At the end of the stream: the final (or short) window, if any samples are not yet classified. */
int QEML(stream_finish)(QEML(context) *ctx, QEML(on_result) on_result, void *user);
#endif

/* What went wrong in the last call that failed on this context; a status as text. */
const char *QEML(error)(const QEML(context) *ctx);
const char *QEML(status_string)(int status);

#ifdef __cplusplus
}
#endif
