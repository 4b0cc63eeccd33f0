/* libFuzzer harness: bytes → the exported C runtime's weights loader (qemlnet-tiny export).
 *
 * Every weights image must give a status (never a crash, never a read outside the buffer).
 * Each input is tried as two images:
 *  - raw: the bytes themselves (short files, wrong magic/version/hash/size fields);
 *  - patched: the export's valid image (QEMLC_FUZZ_WEIGHTS) with its size changed by the
 *    signed 16-bit value in bytes 0–1, its header overwritten by bytes 2–65 and, after that,
 *    5-byte edits (little-endian offset, value) anywhere in it. This keeps inputs small (fast)
 *    while reaching every byte of a 150 KB image.
 * Each image goes through qemlnet_tiny_load_weights (64-byte aligned, exact size for ASan), the
 * same with the header checksum recomputed (so field mutations get past the checksum; a load
 * that then succeeds runs the network once on the garbage weights), and
 * qemlnet_tiny_load_weights_file on a scratch file, which must agree with the buffer loader.
 * Built by scripts/fuzz.sh export-weights against a fresh `qemlc export` of examples/qemlnet-tiny.qir.
 */
#include "qemlnet-tiny.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static qemlnet_tiny_context *ctx;
static char scratch[64];
static void remove_scratch(void) { unlink(scratch); }  /* libFuzzer exits normally at -max_total_time */
static unsigned char *valid;
static size_t valid_size;

static void check_status(int status, const char *where) {
    if (status < QEMLNET_TINY_OK || status > QEMLNET_TINY_ERROR_MEMORY) {
        fprintf(stderr, "%s returned %d, not a status\n", where, status);
        abort();
    }
    if (status != QEMLNET_TINY_OK && qemlnet_tiny_error(ctx)[0] == 0) {
        fprintf(stderr, "%s failed (%d) without a message\n", where, status);
        abort();
    }
}

/* The runtime's checksum (FNV-1a over little-endian 64-bit words). Not instrumented: coverage
   and ASan checks on this 19 000-step loop took most of the harness's time. */
__attribute__((no_sanitize("coverage", "address"), noinline)) static uint64_t fnv_payload(const unsigned char *d, size_t bytes) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 64; i + 8 <= bytes; i += 8) {
        uint64_t v;
        memcpy(&v, d + i, 8);
        h = (h ^ v) * 0x100000001b3ull;  /* x86-64, AArch64: little-endian */
    }
    return h;
}

/* One image (`buf`, 64-byte aligned, exactly `size` bytes) through both loaders. The file
   loader is skipped for full-size images with a checksum that fails in the buffer loader (the
   file path then runs the same check after a plain fread; skipping it doubles the rate). */
static void try_image(unsigned char *buf, size_t size) {
    int by_buffer = qemlnet_tiny_load_weights(ctx, buf, size);
    check_status(by_buffer, "load_weights");

    FILE *f = size == QEMLNET_TINY_WEIGHTS_BYTES && by_buffer == QEMLNET_TINY_ERROR_WEIGHTS_CHECKSUM ? NULL : fopen(scratch, "wb");
    if (f) {
        size_t wrote = fwrite(buf, 1, size, f);
        fclose(f);
        if (wrote == size) {
            int by_file = qemlnet_tiny_load_weights_file(ctx, scratch);
            check_status(by_file, "load_weights_file");
            if ((by_file == QEMLNET_TINY_OK) != (by_buffer == QEMLNET_TINY_OK)) {
                fprintf(stderr, "load_weights says %d, load_weights_file says %d\n", by_buffer, by_file);
                abort();
            }
        }
    }

    if (size >= 64) {
        uint64_t h = fnv_payload(buf, size);
        for (int b = 0; b < 8; b++) buf[32 + b] = (unsigned char)(h >> (8 * b));
        int fixed = qemlnet_tiny_load_weights(ctx, buf, size);
        check_status(fixed, "load_weights (checksum fixed)");
        if (fixed == QEMLNET_TINY_OK) {
            float input[QEMLNET_TINY_INPUT_CHANNELS * QEMLNET_TINY_INPUT_HEIGHT * QEMLNET_TINY_INPUT_WIDTH];
            for (size_t i = 0; i < sizeof input / sizeof input[0]; i++) input[i] = (float)((int)(i % 7) - 3);
            check_status(qemlnet_tiny_run_spectrogram(ctx, input), "run_spectrogram");
            if (qemlnet_tiny_top_class(ctx) < 0 || qemlnet_tiny_top_class(ctx) >= QEMLNET_TINY_CLASSES) abort();
        }
    }
}

static unsigned char *aligned_copy(const unsigned char *src, size_t copy, size_t size) {
    void *raw = NULL;
    if (posix_memalign(&raw, 64, size ? size : 1) != 0) return NULL;
    if (copy < size) memset((unsigned char *)raw + copy, 0, size - copy);
    memcpy(raw, src, copy < size ? copy : size);
    return raw;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) {
        ctx = qemlnet_tiny_create(NULL, 0);
        const char *path = getenv("QEMLC_FUZZ_WEIGHTS");
        FILE *f = path ? fopen(path, "rb") : NULL;
        valid = malloc(QEMLNET_TINY_WEIGHTS_BYTES);
        if (!ctx || !f || !valid || (valid_size = fread(valid, 1, QEMLNET_TINY_WEIGHTS_BYTES, f)) != QEMLNET_TINY_WEIGHTS_BYTES) {
            fprintf(stderr, "set QEMLC_FUZZ_WEIGHTS to the export's qemlnet-tiny.weights\n");
            abort();
        }
        fclose(f);
        snprintf(scratch, sizeof scratch, "/dev/shm/qemlc-fuzz-weights-%d", (int)getpid());
        atexit(remove_scratch);
    }
    unsigned char *buf = aligned_copy(data, size, size);
    if (!buf) return 0;
    try_image(buf, size);
    free(buf);

    if (size < 2) return 0;
    long patched = (long)valid_size + (int16_t)(data[0] | data[1] << 8);
    if (patched < 0) patched = 0;
    buf = aligned_copy(valid, valid_size, (size_t)patched);
    if (!buf) return 0;
    size_t header = size - 2 < 64 ? size - 2 : 64;
    if ((size_t)patched < header) header = (size_t)patched;
    memcpy(buf, data + 2, header);
    for (size_t at = 66; at + 5 <= size && patched > 0; at += 5) {
        uint32_t offset = data[at] | data[at + 1] << 8 | data[at + 2] << 16 | (uint32_t)data[at + 3] << 24;
        buf[offset % (size_t)patched] = data[at + 4];
    }
    try_image(buf, (size_t)patched);
    free(buf);
    return 0;
}
