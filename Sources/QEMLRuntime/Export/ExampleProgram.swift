/// The files around the runtime that make the export a working program: `main.c` (the
/// `classify` example), the `Makefile` and the README. Embedded as text so the built qemlc
/// needs no source tree.
extension ExportedModel {
    public func mainC(embedded: Bool) -> String {
        let p = prefix, P = upper
        return """
            /* main.c — classify signals with the exported model "\(graph.name)".
             *
             *   ./classify [--weights FILE] [--spectrogram-out FILE] SIGNAL...
             *
             * SIGNAL is a WAV file (PCM 16-bit or float 32-bit; the first channel) or a raw signal of
             * little-endian float32 samples\(hasFrontEnd ? "" : " — this model has no frontend section, so a raw file holds the network input itself"). For each signal, prints `label probability` lines,
             * highest first (with several signals, a `file:` line before each). Exit status: 0 ok,
             * 1 bad input, 2 the runtime refused (message on stderr).
             */
            #include "\(stem).h"

            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>

            static uint32_t u32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
            static uint16_t u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

            /* The whole file, or NULL with a message. */
            static unsigned char *slurp(const char *path, size_t *size) {
                FILE *f = fopen(path, "rb");
                if (!f) { fprintf(stderr, "error: cannot open %s\\n", path); return NULL; }
                long n = -1;
                if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
                if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); fprintf(stderr, "error: cannot read %s\\n", path); return NULL; }
                unsigned char *data = (unsigned char *)malloc((size_t)n + 1);
                if (!data) { fclose(f); fprintf(stderr, "error: out of memory reading %s\\n", path); return NULL; }
                if (fread(data, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(data); fprintf(stderr, "error: cannot read %s\\n", path); return NULL; }
                fclose(f);
                *size = (size_t)n;
                return data;
            }

            /* A WAV file's first channel (PCM16 or float32), or a raw float32 signal. */
            static float *read_signal(const char *path, size_t *count, int *rate) {
                size_t size = 0;
                unsigned char *d = slurp(path, &size);
                if (!d) return NULL;
                float *out = NULL;
                *rate = 0;
                if (size >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WAVE", 4) == 0) {
                    int format = 0, channels = 0, bits = 0;
                    const unsigned char *data = NULL;
                    size_t data_bytes = 0;
                    for (size_t at = 12; at + 8 <= size;) {
                        size_t len = u32(d + at + 4);
                        const unsigned char *body = d + at + 8;
                        if (len > size - at - 8) len = size - at - 8;  /* a truncated last chunk */
                        if (memcmp(d + at, "fmt ", 4) == 0 && len >= 16) {
                            format = u16(body);
                            channels = u16(body + 2);
                            *rate = (int)u32(body + 4);
                            bits = u16(body + 14);
                            if (format == 0xFFFE && len >= 26) format = u16(body + 24);  /* WAVE_FORMAT_EXTENSIBLE */
                        } else if (memcmp(d + at, "data", 4) == 0) {
                            data = body;
                            data_bytes = len;
                        }
                        at += 8 + len + (len & 1);
                    }
                    if (!data || format == 0) {
                        fprintf(stderr, "error: %s: the WAV file has no %s chunk (truncated or not a recording?)\\n",
                                path, format == 0 ? "fmt" : "data");
                        free(d);
                        return NULL;
                    }
                    if (channels < 1 || !((format == 1 && bits == 16) || (format == 3 && bits == 32))) {
                        fprintf(stderr, "error: %s: only PCM 16-bit and float 32-bit WAV files are read (format %d, %d bits, %d channels)\\n",
                                path, format, bits, channels);
                        free(d);
                        return NULL;
                    }
                    const size_t frame = (size_t)channels * (size_t)(bits / 8);
                    *count = data_bytes / frame;
                    out = (float *)malloc((*count ? *count : 1) * sizeof(float));
                    for (size_t i = 0; out && i < *count; i++) {
                        const unsigned char *s = data + i * frame;
                        if (format == 1) {
                            out[i] = (float)(int16_t)u16(s) / 32768.0f;
                        } else {
                            uint32_t bitsv = u32(s);
                            float v;
                            memcpy(&v, &bitsv, 4);
                            out[i] = v;
                        }
                    }
                } else {
                    if (size % 4 != 0) {
                        fprintf(stderr, "error: %s is neither a WAV file nor raw float32 samples (%zu bytes is not a multiple of 4)\\n", path, size);
                        free(d);
                        return NULL;
                    }
                    *count = size / 4;
                    out = (float *)malloc((*count ? *count : 1) * sizeof(float));
                    for (size_t i = 0; out && i < *count; i++) {
                        uint32_t bitsv = u32(d + 4 * i);
                        memcpy(&out[i], &bitsv, 4);
                    }
                }
                free(d);
                if (!out) fprintf(stderr, "error: out of memory reading %s\\n", path);
                return out;
            }

            static const float *sort_probs;
            static int by_probability(const void *a, const void *b) {
                const float x = sort_probs[*(const int *)a], y = sort_probs[*(const int *)b];
                return x < y ? 1 : x > y ? -1 : *(const int *)a - *(const int *)b;
            }

            int main(int argc, char **argv) {
                const char *weights = NULL, *spectrogram_out = NULL;
                int first = 1;
                while (first < argc && strncmp(argv[first], "--", 2) == 0) {
                    if (strcmp(argv[first], "--weights") == 0 && first + 1 < argc) weights = argv[first + 1];
                    else if (strcmp(argv[first], "--spectrogram-out") == 0 && first + 1 < argc) spectrogram_out = argv[first + 1];
                    else { fprintf(stderr, "error: unknown option %s\\n", argv[first]); return 1; }
                    first += 2;
                }
                if (first >= argc) {
                    fprintf(stderr, "usage: %s [--weights FILE] [--spectrogram-out FILE] SIGNAL.wav|SIGNAL.f32 ...\\n"
                                    "model %s (%s), hash %s, runtime %s\\n", argv[0], "\(graph.name)", \(p)_target(), \(p)_model_hash(), \(p)_version());
                    return 1;
                }
                \(p)_context *ctx = \(p)_create(NULL, 0);
                if (!ctx) { fprintf(stderr, "error: cannot allocate the context (%zu bytes)\\n", \(p)_context_bytes()); return 2; }
                int status;
                \(embedded ? "if (!weights) status = \(p)_load_embedded_weights(ctx); else" : "if (!weights) weights = \"\(stem).weights\";")
                status = \(p)_load_weights_file(ctx, weights);
                if (status != \(P)_OK) {
                    fprintf(stderr, "error: %s (%s)\\n", \(p)_error(ctx), \(p)_status_string(status));
                    \(p)_destroy(ctx);
                    return 2;
                }
                int result = 0;
                for (int a = first; a < argc; a++) {
                    size_t count = 0;
                    int rate = 0;
                    float *signal = read_signal(argv[a], &count, &rate);
                    if (!signal) { result = 1; continue; }
                    if (rate != 0 && \(P)_SAMPLE_RATE != 0 && rate != \(P)_SAMPLE_RATE) {
                        fprintf(stderr, "error: %s is sampled at %d Hz; the model expects %d Hz (resample it first)\\n", argv[a], rate, \(P)_SAMPLE_RATE);
                        free(signal);
                        result = 1;
                        continue;
                    }
                    \(hasFrontEnd ? "status = \(p)_run_signal(ctx, signal, count);" : """
                    /* No frontend section: the file holds the network input itself (raw float32). */
                            const size_t need = (size_t)\(P)_INPUT_CHANNELS * \(P)_INPUT_HEIGHT * \(P)_INPUT_WIDTH;
                            if (count != need) {
                                fprintf(stderr, "error: %s has %zu values; the model's input takes %zu (channels x height x width, float32)\\n", argv[a], count, need);
                                free(signal);
                                result = 1;
                                continue;
                            }
                            status = \(p)_run_spectrogram(ctx, signal);
                    """)
                    free(signal);
                    if (status != \(P)_OK) {
                        fprintf(stderr, "error: %s: %s (%s)\\n", argv[a], \(p)_error(ctx), \(p)_status_string(status));
                        result = 2;
                        continue;
                    }
                    if (spectrogram_out && \(p)_spectrogram(ctx)) {
                        FILE *f = fopen(spectrogram_out, "wb");
                        const size_t n = (size_t)\(P)_INPUT_HEIGHT * \(P)_INPUT_WIDTH;
                        if (!f || fwrite(\(p)_spectrogram(ctx), sizeof(float), n, f) != n) {
                            fprintf(stderr, "error: cannot write %s\\n", spectrogram_out);
                            result = 1;
                        }
                        if (f) fclose(f);
                    }
                    const float *probs = \(p)_probabilities(ctx);
                    int order[\(P)_CLASSES];
                    for (int i = 0; i < \(P)_CLASSES; i++) order[i] = i;
                    sort_probs = probs;
                    qsort(order, \(P)_CLASSES, sizeof order[0], by_probability);
                    if (argc - first > 1) printf("%s:\\n", argv[a]);
                    for (int i = 0; i < \(P)_CLASSES; i++) printf("%s %.9g\\n", \(p)_label(order[i]), probs[order[i]]);
                }
                \(p)_destroy(ctx);
                return result;
            }

            """
    }

    public func makefile() -> String {
        """
        # Builds ./classify from the exported "\(graph.name)" runtime (target \(target.name)).
        #   make                              with the host's cc
        #   make CC=aarch64-linux-gnu-gcc     for an AArch64 board (when exported with --target aarch64-neon)
        # Only a C11 compiler and libm are needed. -fno-math-errno lets the front end's sqrt vectorize.
        CC = cc
        CFLAGS = -O2 -std=c11 -fno-math-errno -Wall
        LDLIBS = -lm
        MODEL = \(stem)

        .SUFFIXES:

        classify: main.c $(MODEL)_runtime.c $(MODEL).h $(MODEL).o
        \t$(CC) $(CFLAGS) -o $@ main.c $(MODEL)_runtime.c $(MODEL).o $(LDLIBS)

        clean:
        \trm -f classify

        .PHONY: clean

        """
    }

    public func readme(qemlcVersion: String, embedded: Bool, objectBytes: Int) -> String {
        let p = prefix
        return """
            # \(graph.name) — exported runtime for \(target.name)

            Exported by qemlc \(qemlcVersion) for \(target.description.isEmpty ? target.name : target.description)
            (`\(target.triple)`, cpu `\(target.cpu)`). Model hash `\(modelHashHex)`.
            Nothing but a C compiler is needed: no Swift, no LLVM, no FFTW.

            | file | what |
            |---|---|
            | `\(stem).o` | the generated kernels (\(objectBytes) bytes of object code\(embedded ? ", weights included" : "")) |
            | `\(stem)_runtime.c` | context, weights loader, front end (FFT of n_fft as code), step driver |
            | `\(stem).h` | the C API (documented in the file) |
            | `\(stem).weights` | the weights, pre-packed for the kernels (\(weightsBytes) bytes, header + checksum) |
            | `main.c`, `Makefile` | the `classify` example |

            ## Build and run

                make                              # the host's cc; for the board: make CC=aarch64-linux-gnu-gcc
                ./classify signal.wav             # a WAV file (PCM16/float32) or raw little-endian float32 samples
                ./classify --weights other.weights a.wav b.wav

            Each signal prints `label probability` lines, highest first. \(hasFrontEnd
                ? "Signals are \(frontEnd?.sampleRate.map { "sampled at \($0) Hz, " } ?? "")cropped\nor zero-padded to \(frontEnd?.length.map(String.init) ?? "the model's") samples."
                : "This model has no frontend section: give\n`classify` the network input itself as raw float32 (\(input.storage.channels)×\(input.storage.height)×\(input.storage.width) values), or call `\(p)_run_spectrogram`.")

            ## How it fits together

            `\(stem).o` holds one function per distinct kernel that qemlc's code generator made for
            \(target.name) — the code the JIT runs. `\(stem)_runtime.c` is generated C around it:
            `run_steps` calls the kernels in the plan's order over one arena at constant offsets with the
            weights file's blocks as their packed constants\(steps.contains { if case .circuit = $0.action { return true }; return false } ? "; the quantum circuit runs as generated C on a double-precision state vector" : "")\(frontEnd.map { "; the front end's FFT is generated for n_fft = \($0.stft.nFFT) with constant twiddles" } ?? ""). The driver is C,
            not more generated machine code, so you can read it, step through it and build it for any
            board with your own compiler; it costs one call per step. The Makefile's `-fno-math-errno`
            only lets the front end's square roots vectorize; results do not depend on it.

            ## Memory

            One context holds everything: \(plan.arenaBytesPerSample) bytes of arena (all activations, reused by
            liveness) plus the front end's buffers, \(contextBytes) bytes in all (`\(upper)_CONTEXT_BYTES`).
            `\(p)_create(NULL, 0)` allocates it once; `\(p)_create(buffer, size)` uses your memory. Runs
            allocate nothing. Use one context per thread; contexts may share weights loaded with
            `\(p)_load_weights` (in place, no copy).

            ## Errors

            Every call returns a status; `\(p)_error(ctx)` says what is wrong. A weights file for another
            model or target, of the wrong size or with a wrong checksum is refused with its own status.

            """
    }
}
