import Foundation

/// The generated C around the kernels: `<model>.h` (the documented API) and
/// `<model>_runtime.c` (context and arena, weights loader and checks, front end, the step
/// driver calling every kernel in plan order over constant arena offsets, the circuit).
extension ExportedModel {
    var upper: String { prefix.uppercased() }
    var hasFrontEnd: Bool { frontEnd != nil }
    var classLabels: [String] {
        let width = outputs[classOutput].count
        return graph.labels.count == width ? graph.labels : (0..<width).map { "class \($0)" }
    }

    /// `const char *` literal.
    func cString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if u.value < 0x20 || u.value > 0x7e {
                    for b in String(u).utf8 { out += String(format: "\\%03o", b) }
                } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    // MARK: header

    public func header(qemlcVersion: String, embedded: Bool) -> String {
        let p = prefix, P = upper
        let input = self.input.storage
        let spectrogramDoc = hasFrontEnd
            ? "the front end's output (the network input) for the last qemlnet run_signal, [\(P)_INPUT_CHANNELS][\(P)_INPUT_HEIGHT][\(P)_INPUT_WIDTH]"
            : "NULL (this model has no frontend section)"
        return """
            /*
             * \(stem).h — standalone runtime for the QEML-Net model "\(graph.name)", exported by qemlc \(qemlcVersion)
             * for target \(target.name) (\(target.triple), cpu \(target.cpu)).
             *
             * Build: compile \(stem)_runtime.c and link it with \(stem).o (the kernels) and -lm;
             * nothing else is needed (no Swift, no LLVM, no FFTW). See main.c for a complete program.
             *
             *     \(p)_context *ctx = \(p)_create(NULL, 0);                 // one malloc, or pass your own memory
             *     if (!ctx || \(p)_load_weights_file(ctx, "\(stem).weights") != \(P)_OK) ...  // \(p)_error(ctx) says why
             *     if (\(p)_run_signal(ctx, samples, count) == \(P)_OK)
             *         printf("%s %f\\n", \(p)_label(\(p)_top_class(ctx)), \(p)_probabilities(ctx)[\(p)_top_class(ctx)]);
             *     \(p)_destroy(ctx);
             *
             * Memory: a context holds everything a run needs (the \(plan.arenaBytesPerSample)-byte arena, the front end's
             * buffers, the outputs); it is allocated once (or placed in memory you provide) and a run
             * allocates nothing. Weights are read-only after loading and may be shared by contexts.
             * Reentrancy: functions touch only their own context; use one context per thread.
             * Every function returning int returns a status (\(P)_OK = 0); on error \(p)_error(ctx)
             * returns a message naming what is wrong.
             */
            #ifndef \(P)_H
            #define \(P)_H

            #include <stddef.h>

            #ifdef __cplusplus
            extern "C" {
            #endif

            #define \(P)_VERSION \(cString(qemlcVersion))
            #define \(P)_MODEL_HASH "\(modelHashHex)"
            #define \(P)_TARGET \(cString(target.name))
            /* Bytes of the arena (all activations and kernel scratch, reused by liveness). */
            #define \(P)_ARENA_BYTES \(plan.arenaBytesPerSample)u
            /* Bytes a context needs, arena included: pass at least this much to \(p)_create. */
            #define \(P)_CONTEXT_BYTES \(contextBytes)u
            /* Bytes of \(stem).weights (header + packed, 64-byte aligned weight blocks). */
            #define \(P)_WEIGHTS_BYTES \(weightsBytes)u
            /* The signal the front end expects (\(hasFrontEnd ? "longer signals are cropped, shorter zero-padded" : "no front end: use run_spectrogram")). */
            #define \(P)_SAMPLE_RATE \(frontEnd?.sampleRate ?? 0)
            #define \(P)_SIGNAL_LENGTH \(frontEnd?.length ?? 0)
            /* The network input, plain row-major [channels][height][width]. */
            #define \(P)_INPUT_CHANNELS \(input.channels)
            #define \(P)_INPUT_HEIGHT \(input.height)
            #define \(P)_INPUT_WIDTH \(input.width)
            #define \(P)_CLASSES \(outputs[classOutput].count)
            #define \(P)_OUTPUTS \(outputs.count)
            #define \(P)_EMBEDDED_WEIGHTS \(embedded ? 1 : 0)

            typedef enum {
                \(P)_OK = 0,
                \(P)_ERROR_ARGUMENT = 1,          /* a NULL pointer, an empty signal, too little memory */
                \(P)_ERROR_IO = 2,                /* the weights file cannot be opened or read */
                \(P)_ERROR_WEIGHTS_FORMAT = 3,    /* not a qemlc weights file, or another format version */
                \(P)_ERROR_WEIGHTS_MODEL = 4,     /* weights packed for another model or target */
                \(P)_ERROR_WEIGHTS_SIZE = 5,      /* truncated or oversized weights */
                \(P)_ERROR_WEIGHTS_CHECKSUM = 6,  /* the weights are corrupt */
                \(P)_ERROR_WEIGHTS_ALIGNMENT = 7, /* a weights buffer not 64-byte aligned */
                \(P)_ERROR_NO_WEIGHTS = 8,        /* run before weights were loaded */
                \(P)_ERROR_NO_FRONTEND = 9,       /* run_signal on a model without a frontend section */
                \(P)_ERROR_MEMORY = 10,           /* malloc failed */
                \(P)_ERROR_NONFINITE = 11         /* a NaN or Inf in the signal or input (the message names its index) */
            } \(p)_status;

            typedef struct \(p)_context \(p)_context;

            /* The runtime's version, the model hash its weights must carry, the target it was built for. */
            const char *\(p)_version(void);
            const char *\(p)_model_hash(void);
            const char *\(p)_target(void);

            /* Bytes a context needs (= \(P)_CONTEXT_BYTES). */
            size_t \(p)_context_bytes(void);
            /* A context in `memory` (at least \(p)_context_bytes() bytes, any alignment), or, with
               memory == NULL, in one malloc. NULL if the memory is too small or malloc fails. */
            \(p)_context *\(p)_create(void *memory, size_t bytes);
            /* Frees what the context allocated (its memory if create allocated it, weights read from a file). */
            void \(p)_destroy(\(p)_context *ctx);

            /* Reads and checks \(stem).weights (size, format, model hash, checksum) into one allocation. */
            int \(p)_load_weights_file(\(p)_context *ctx, const char *path);
            /* Checks weights already in memory and uses them in place (no copy): `data` must be 64-byte
               aligned and outlive the context; several contexts may share it. */
            int \(p)_load_weights(\(p)_context *ctx, const void *data, size_t bytes);
            /* The weights compiled into \(stem).o (exported with --embed-weights), else \(P)_ERROR_NO_WEIGHTS. */
            int \(p)_load_embedded_weights(\(p)_context *ctx);

            /* Classifies a raw signal sampled at \(P)_SAMPLE_RATE Hz: front end, then the network. A NaN or
               Inf sample is refused with \(P)_ERROR_NONFINITE (the message names its index), never a class. */
            int \(p)_run_signal(\(p)_context *ctx, const float *signal, size_t count);
            /* Runs the network on its input (e.g. a spectrogram), plain [channels][height][width] floats;
               a non-finite value is refused with \(P)_ERROR_NONFINITE. */
            int \(p)_run_spectrogram(\(p)_context *ctx, const float *input);

            /* After a successful run: the class probabilities (\(P)_CLASSES floats), the most probable class. */
            const float *\(p)_probabilities(const \(p)_context *ctx);
            int \(p)_top_class(const \(p)_context *ctx);
            /* A class's label, or NULL out of range. */
            const char *\(p)_label(int index);
            /* Any model output by index (< \(P)_OUTPUTS): its floats (plain, per sample) and name. */
            const float *\(p)_output(const \(p)_context *ctx, int index, size_t *count);
            const char *\(p)_output_name(int index);
            /* \(spectrogramDoc). */
            const float *\(p)_spectrogram(const \(p)_context *ctx);

            \(hasFrontEnd ? streamHeader : "")
            /* What went wrong in the last call that failed on this context; a status as text. */
            const char *\(p)_error(const \(p)_context *ctx);
            const char *\(p)_status_string(int status);

            #ifdef __cplusplus
            }
            #endif

            #endif /* \(P)_H */

            """
    }

    // MARK: sizes

    /// Floats of the context's buffers (besides the struct), each region rounded to 64 bytes.
    var regions: [(name: String, bytes: Int)] {
        func r(_ b: Int) -> Int { (b + 63) / 64 * 64 }
        var out = [("arena", r(plan.arenaBytesPerSample)), ("outputs", r(outputs.reduce(0) { $0 + $1.count } * 4))]
        if let fe = frontEnd, let length = fe.length {
            let frames = fe.stft.frameCount(length: length)
            out.append(("fe_work", r(CFrontEnd.tile * (4 * fe.stft.nFFT + 8) * 4)))
            out.append(("fe_padded", r((length + 2 * fe.stft.padAmount) * 4)))
            out.append(("fe_spec", r(CFrontEnd.specFloats(fe, frames: frames) * 4)))
            out.append(("fe_resized", r(CFrontEnd.outputFloats(fe) * 4)))
            out.append(("stream_ring", r(length * 4)))
            out.append(("stream_window", r(length * 4)))
            out.append(("stream_spec", r(fe.sources.count * CFrontEnd.specFloats(fe, frames: frames) * 4)))
            out.append(("stream_need", r(frames)))
        }
        return out
    }

    /// The struct's bound (checked by a static assert in the C) + 64 for alignment + the regions.
    static let contextStructBound = 1024
    var contextBytes: Int { Self.contextStructBound + 64 + regions.reduce(0) { $0 + $1.bytes } }

    // MARK: runtime source

    /// `symbols[k]`: the object's symbol for plan definition `k` (kernels with one body share one).
    public func runtimeSource(qemlcVersion: String, embedded: Bool, symbols: [String]) throws -> String {
        let p = prefix, P = upper
        let (blockOffsets, payloadFloats) = WeightsImage.offsets(blocks)
        var c: [String] = []
        c.append("""
            /* \(stem)_runtime.c — generated by qemlc \(qemlcVersion) for "\(graph.name)" on \(target.name). Do not edit:
               re-export instead. The kernels are in \(stem).o; this file runs them (see \(stem).h). */
            #include "\(stem).h"

            #include <math.h>
            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>

            typedef void (*kernel_fn)(float *const *buffers, const float *params, int64_t begin, int64_t end);

            """)
        // Kernel declarations.
        var declared = Set<String>()
        var decls: [String] = []
        for s in steps {
            if case .kernel(let k, _) = s.action, declared.insert(symbols[k]).inserted {
                let symbol = symbols[k]
                decls.append("void \(symbol)(float *const *buffers, const float *params, int64_t begin, int64_t end);")
            }
        }
        c.append("/* The generated kernels (\(stem).o). */\n" + decls.joined(separator: "\n") + "\n")
        if embedded {
            c.append("/* The weights file's bytes, 64-byte aligned, in \(stem).o. */\nextern const unsigned char \(p)_weights_image[\(weightsBytes)];\n")
        }

        c.append("""
            #define WEIGHTS_HEADER 64
            #define WEIGHTS_PAYLOAD \(payloadFloats * 4)ull
            #define MODEL_HASH 0x\(modelHashHex)ull
            #define LANES \(target.vectorWidth)

            struct \(p)_context {
                float *arena;
                float *outputs;
                float *fe_work;
                float *fe_padded, *fe_spec, *fe_resized, *fe_last;
                float *stream_ring, *stream_window;  /* the last SIGNAL_LENGTH samples; one window, in order */
                float *stream_spec, *stream_need;    /* each channel's spectrogram of the last window; frames to compute (bytes) */
                size_t stream_hop, stream_total, stream_last_end;
                int stream_previous;                 /* stream_spec holds the previous full window */
                const float *weights;   /* the payload: block b at weights + its offset */
                void *weights_owned;    /* malloc'd by load_weights_file */
                void *memory_owned;     /* malloc'd by create */
                int top;
                int has_run;
                char message[512];
            };
            _Static_assert(sizeof(struct \(p)_context) <= \(Self.contextStructBound), "context struct grew past its bound");

            static const char *const labels[] = {\(classLabels.map(cString).joined(separator: ", "))};
            static const char *const output_names[] = {\(outputs.map { cString($0.name) }.joined(separator: ", "))};
            static const size_t output_counts[] = {\(outputs.map { String($0.count) }.joined(separator: ", "))};

            const char *\(p)_version(void) { return \(P)_VERSION; }
            const char *\(p)_model_hash(void) { return \(P)_MODEL_HASH; }
            const char *\(p)_target(void) { return \(P)_TARGET; }

            static int fail(\(p)_context *ctx, int status, const char *format, ...);

            """)
        // Regions.
        var carve: [String] = []
        for (name, bytes) in regions {
            carve.append("    ctx->\(name) = (float *)(void *)at; at += \(bytes);")
        }
        c.append("""
            size_t \(p)_context_bytes(void) { return \(P)_CONTEXT_BYTES; }

            \(p)_context *\(p)_create(void *memory, size_t bytes) {
                void *owned = NULL;
                if (!memory) {
                    owned = memory = malloc(\(P)_CONTEXT_BYTES);
                    bytes = \(P)_CONTEXT_BYTES;
                    if (!memory) return NULL;
                }
                if (bytes < \(P)_CONTEXT_BYTES) return NULL;
                memset(memory, 0, \(P)_CONTEXT_BYTES);
                \(p)_context *ctx = (\(p)_context *)memory;
                unsigned char *at = (unsigned char *)memory + \(Self.contextStructBound);
                at += (64 - ((uintptr_t)at & 63)) & 63;
            \(carve.joined(separator: "\n"))
                ctx->memory_owned = owned;
                ctx->top = -1;
                return ctx;
            }

            void \(p)_destroy(\(p)_context *ctx) {
                if (!ctx) return;
                free(ctx->weights_owned);
                ctx->weights_owned = NULL;
                free(ctx->memory_owned);
            }

            """)
        c.append(weightsLoader(p: p, P: P))
        // Circuits.
        var circuitNames: [Int: String] = [:]
        var circuitCode: [String] = []
        for (i, s) in steps.enumerated() {
            if case .circuit(let circuit) = s.action {
                let name = "circuit_step\(i)"
                circuitNames[i] = name
                circuitCode.append("/* \(s.comment) */\n" + (try circuit.cFunction(name: name, lanes: target.vectorWidth)) + "\n")
            }
        }
        if !circuitCode.isEmpty {
            let used = circuitCode.joined()
            c.append(Self.circuitPrelude)
            for h in Self.circuitHelpers where h.name == "q_apply" || used.contains(h.name + "(") { c.append(h.code) }
            c.append(contentsOf: circuitCode)
        }
        // The step driver.
        var body: [String] = []
        for (i, s) in steps.enumerated() {
            let params = s.block.map { "w + \(blockOffsets[$0])" } ?? "w"
            body.append("    /* \(i): \(s.comment.replacingOccurrences(of: "*/", with: "* /")) */")
            switch s.action {
            case .kernel(let k, let items):
                let symbol = symbols[k]
                let buffers = s.offsets.map { "a + \($0)" }.joined(separator: ", ")
                body.append("    { float *const b[] = {\(buffers)}; \(symbol)(b, \(params), 0, \(items)); }")
            case .circuit(let circuit):
                let wb = circuit.weightBlocks.indices.map { "w + \(blockOffsets[circuit.firstBlock + $0])" }
                let table = wb.isEmpty ? "const float *const *wb = NULL;" : "const float *const wb[] = {\(wb.joined(separator: ", "))};"
                body.append("    { \(table) \(circuitNames[i] ?? "")(a + \(s.offsets[0]), a + \(s.offsets[s.offsets.count - 1]), wb); }")
            }
        }
        let inputStorage = input.storage
        var unblock: [String] = []
        var outOffset = 0
        for o in outputs {
            unblock.append("    unblock(ctx->arena + \(o.offset), ctx->outputs + \(outOffset), \(o.storage.channels), \(o.storage.height * o.storage.width));")
            outOffset += o.count
        }
        let classStart = outputs[..<classOutput].reduce(0) { $0 + $1.count }
        c.append("""
            /* Every step of the plan, in order, over one arena (offsets in floats). */
            static void run_steps(float *a, const float *w) {
            \(body.joined(separator: "\n"))
            }

            /* Plain [C][HW] → blocked [C/LANES][HW][LANES] (padded lanes zero), and back. */
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

            int \(p)_run_spectrogram(\(p)_context *ctx, const float *input) {
                if (!ctx) return \(P)_ERROR_ARGUMENT;
                if (!input) return fail(ctx, \(P)_ERROR_ARGUMENT, "run_spectrogram: the input is NULL");
                if (!ctx->weights) return fail(ctx, \(P)_ERROR_NO_WEIGHTS, "no weights loaded: call \(p)_load_weights_file first");
                {
                    const size_t n = (size_t)\(inputStorage.channels) * \(inputStorage.height * inputStorage.width);
                    const size_t bad = first_nonfinite(input, n);
                    if (bad < n) return fail(ctx, \(P)_ERROR_NONFINITE, "input value %zu: %s is not a finite number", bad, nonfinite_name(input[bad]));
                }
                block(input, ctx->arena + \(input.offset), \(inputStorage.channels), \(inputStorage.height * inputStorage.width));
                run_steps(ctx->arena, ctx->weights);
            \(unblock.joined(separator: "\n"))
                const float *probs = ctx->outputs + \(classStart);
                int top = 0;
                for (int i = 1; i < \(P)_CLASSES; i++) if (probs[i] > probs[top]) top = i;
                ctx->top = top;
                ctx->has_run = 1;
                ctx->message[0] = 0;
                return \(P)_OK;
            }

            const float *\(p)_probabilities(const \(p)_context *ctx) { return ctx && ctx->has_run ? ctx->outputs + \(classStart) : NULL; }
            int \(p)_top_class(const \(p)_context *ctx) { return ctx && ctx->has_run ? ctx->top : -1; }
            const char *\(p)_label(int index) { return index >= 0 && index < \(P)_CLASSES ? labels[index] : NULL; }
            const char *\(p)_output_name(int index) { return index >= 0 && index < \(P)_OUTPUTS ? output_names[index] : NULL; }

            const float *\(p)_output(const \(p)_context *ctx, int index, size_t *count) {
                if (!ctx || !ctx->has_run || index < 0 || index >= \(P)_OUTPUTS) return NULL;
                size_t start = 0;
                for (int i = 0; i < index; i++) start += output_counts[i];
                if (count) *count = output_counts[index];
                return ctx->outputs + start;
            }

            """)
        if let fe = frontEnd {
            c.append(try CFrontEnd.source(fe))
            c.append("""

                int \(p)_run_signal(\(p)_context *ctx, const float *signal, size_t count) {
                    if (!ctx) return \(P)_ERROR_ARGUMENT;
                    if (!signal || count == 0) return fail(ctx, \(P)_ERROR_ARGUMENT, "run_signal: the signal is empty");
                    if (!ctx->weights) return fail(ctx, \(P)_ERROR_NO_WEIGHTS, "no weights loaded: call \(p)_load_weights_file first");
                    {
                        const size_t bad = first_nonfinite(signal, count);
                        if (bad < count) return fail(ctx, \(P)_ERROR_NONFINITE, "sample %zu: %s is not a finite number", bad, nonfinite_name(signal[bad]));
                    }
                    ctx->fe_last = fe_run(signal, count, ctx->fe_padded, ctx->fe_work, ctx->fe_spec, ctx->fe_resized);
                    return \(p)_run_spectrogram(ctx, ctx->fe_last);
                }

                const float *\(p)_spectrogram(const \(p)_context *ctx) { return ctx ? ctx->fe_last : NULL; }

                \(streamSource)

                """)
        } else {
            c.append("""
                int \(p)_run_signal(\(p)_context *ctx, const float *signal, size_t count) {
                    (void)signal; (void)count;
                    if (!ctx) return \(P)_ERROR_ARGUMENT;
                    return fail(ctx, \(P)_ERROR_NO_FRONTEND, "the model has no frontend section: use \(p)_run_spectrogram");
                }

                const float *\(p)_spectrogram(const \(p)_context *ctx) { (void)ctx; return NULL; }

                """)
        }
        c.append("""
            int \(p)_load_embedded_weights(\(p)_context *ctx) {
                if (!ctx) return \(P)_ERROR_ARGUMENT;
            \(embedded
                ? "    return \(p)_load_weights(ctx, \(p)_weights_image, sizeof \(p)_weights_image);"
                : "    return fail(ctx, \(P)_ERROR_NO_WEIGHTS, \"this runtime was exported without --embed-weights: load \(stem).weights\");")
            }

            """)
        return c.joined(separator: "\n")
    }

    /// The streaming API's declarations (push form; `StreamWindow` is the same rule in Swift).
    var streamHeader: String {
        let p = prefix, P = upper
        return """
            /* Streaming (push form): a stream keeps the last \(P)_SIGNAL_LENGTH samples in a ring inside the
               context and classifies that window every `hop` samples: windows end at SIGNAL_LENGTH,
               SIGNAL_LENGTH + hop, …, as `qemlc run --stream` does. `on_result` is called from inside
               push for each window, with the window's end time and its probabilities (valid during the
               call). finish classifies what came after the last window (a final window ending at the
               last sample), or, for a stream shorter than a window, one short zero-padded window.
               No memory is allocated while streaming; one context per stream (contexts on several
               threads are independent). The STFT is incremental: when the hop is a multiple of the front
               end's hop, frames a window shares with the previous one (those away from its padded edges)
               are reused, and only the new ones are computed (frames_computed says how many). */
            #define \(P)_STREAM_HOP_DEFAULT \(streamHop)u
            typedef enum { \(P)_WINDOW_FULL = 0, \(P)_WINDOW_FINAL = 1, \(P)_WINDOW_SHORT = 2 } \(p)_window_kind;
            typedef struct {
                double end_seconds, start_seconds;  /* the window's samples [start, end) since the stream began */
                int top;                            /* the most probable class, and its label */
                const char *label;
                const float *probabilities;         /* \(P)_CLASSES floats */
                int kind;                           /* \(p)_window_kind */
                size_t samples;                     /* samples in the window (short: fewer than SIGNAL_LENGTH) */
                size_t new_samples;                 /* samples since the previous window's end */
                int frames_computed;                /* STFT frames computed for this window, all channels (the rest reused) */
            } \(p)_stream_result;
            typedef void (*\(p)_on_result)(const \(p)_stream_result *result, void *user);
            /* Starts (or restarts) a stream classifying every `hop` samples (0: \(P)_STREAM_HOP_DEFAULT). */
            int \(p)_stream_init(\(p)_context *ctx, size_t hop);
            /* Forgets the stream's samples (the hop stays). */
            void \(p)_stream_reset(\(p)_context *ctx);
            /* Appends `count` samples; a NaN or Inf is refused with \(P)_ERROR_NONFINITE before any is kept. */
            int \(p)_stream_push(\(p)_context *ctx, const float *samples, size_t count, \(p)_on_result on_result, void *user);
            /* At the end of the stream: the final (or short) window, if any samples are not yet classified. */
            int \(p)_stream_finish(\(p)_context *ctx, \(p)_on_result on_result, void *user);

            """
    }

    /// Whether a stream may reuse STFT frames: not with `db`, which rescales the map in place.
    var streamReusable: Bool { frontEnd?.scale != "db" }

    var streamSource: String {
        let p = prefix, P = upper
        return """
            int \(p)_stream_init(\(p)_context *ctx, size_t hop) {
                if (!ctx) return \(P)_ERROR_ARGUMENT;
                ctx->stream_hop = hop ? hop : \(P)_STREAM_HOP_DEFAULT;
                \(p)_stream_reset(ctx);
                return \(P)_OK;
            }

            void \(p)_stream_reset(\(p)_context *ctx) {
                if (!ctx) return;
                ctx->stream_total = 0;
                ctx->stream_last_end = 0;
                ctx->stream_previous = 0;
            }

            /* Classifies the `have` samples that end at stream position `end` and reports them. */
            static int stream_window(\(p)_context *ctx, size_t end, size_t have, int kind, \(p)_on_result on_result, void *user) {
                for (size_t i = 0; i < have; i++) ctx->stream_window[i] = ctx->stream_ring[(end - have + i) % \(P)_SIGNAL_LENGTH];
                /* A frame of this window that lies away from both padded edges, here and shift frames
                   later in the previous window, is the same numbers: move it instead of computing it. */
                unsigned char *need = (unsigned char *)(void *)ctx->stream_need;
                const size_t shift = ctx->stream_hop / FE_HOP;
                const int reuse = \(streamReusable ? "1" : "0") && kind == \(P)_WINDOW_FULL && ctx->stream_previous && ctx->stream_hop % FE_HOP == 0 && shift < FE_FRAMES;
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
                ctx->stream_previous = kind == \(P)_WINDOW_FULL;
                ctx->fe_last = ctx->fe_resized;
                const int status = \(p)_run_spectrogram(ctx, ctx->fe_resized);
                if (status != \(P)_OK) return status;
                \(p)_stream_result r;
                r.end_seconds = (double)end / \(P)_SAMPLE_RATE;
                r.start_seconds = (double)(end - have) / \(P)_SAMPLE_RATE;
                r.top = ctx->top;
                r.label = \(p)_label(ctx->top);
                r.probabilities = \(p)_probabilities(ctx);
                r.kind = kind;
                r.samples = have;
                r.new_samples = end - ctx->stream_last_end;
                r.frames_computed = frames;
                ctx->stream_last_end = end;
                if (on_result) on_result(&r, user);
                return \(P)_OK;
            }

            int \(p)_stream_push(\(p)_context *ctx, const float *samples, size_t count, \(p)_on_result on_result, void *user) {
                if (!ctx) return \(P)_ERROR_ARGUMENT;
                if (!ctx->stream_hop) return fail(ctx, \(P)_ERROR_ARGUMENT, "stream_push: call stream_init first");
                if (count && !samples) return fail(ctx, \(P)_ERROR_ARGUMENT, "stream_push: samples is NULL");
                if (!ctx->weights) return fail(ctx, \(P)_ERROR_NO_WEIGHTS, "no weights loaded: call \(p)_load_weights_file first");
                {
                    const size_t bad = first_nonfinite(samples, count);
                    if (bad < count) return fail(ctx, \(P)_ERROR_NONFINITE, "stream sample %zu: %s is not a finite number", ctx->stream_total + bad, nonfinite_name(samples[bad]));
                }
                for (size_t i = 0; i < count; i++) {
                    ctx->stream_ring[ctx->stream_total % \(P)_SIGNAL_LENGTH] = samples[i];
                    const size_t t = ++ctx->stream_total;
                    if (t >= \(P)_SIGNAL_LENGTH && (t - \(P)_SIGNAL_LENGTH) % ctx->stream_hop == 0) {
                        const int status = stream_window(ctx, t, \(P)_SIGNAL_LENGTH, \(P)_WINDOW_FULL, on_result, user);
                        if (status != \(P)_OK) return status;
                    }
                }
                return \(P)_OK;
            }

            int \(p)_stream_finish(\(p)_context *ctx, \(p)_on_result on_result, void *user) {
                if (!ctx) return \(P)_ERROR_ARGUMENT;
                const size_t t = ctx->stream_total;
                if (t == 0 || t == ctx->stream_last_end) return \(P)_OK;
                if (t < \(P)_SIGNAL_LENGTH) return stream_window(ctx, t, t, \(P)_WINDOW_SHORT, on_result, user);
                return stream_window(ctx, t, \(P)_SIGNAL_LENGTH, \(P)_WINDOW_FINAL, on_result, user);
            }
            """
    }

    private func weightsLoader(p: String, P: String) -> String {
        """
        #include <stdarg.h>

        static int fail(\(p)_context *ctx, int status, const char *format, ...) {
            va_list args;
            va_start(args, format);
            vsnprintf(ctx->message, sizeof ctx->message, format, args);
            va_end(args);
            return status;
        }

        const char *\(p)_error(const \(p)_context *ctx) { return ctx ? ctx->message : "no context"; }

        const char *\(p)_status_string(int status) {
            switch (status) {
            case \(P)_OK: return "ok";
            case \(P)_ERROR_ARGUMENT: return "invalid argument";
            case \(P)_ERROR_IO: return "cannot read the weights file";
            case \(P)_ERROR_WEIGHTS_FORMAT: return "not a qemlc weights file";
            case \(P)_ERROR_WEIGHTS_MODEL: return "weights for another model or target";
            case \(P)_ERROR_WEIGHTS_SIZE: return "weights of the wrong size";
            case \(P)_ERROR_WEIGHTS_CHECKSUM: return "weights checksum mismatch (corrupt file)";
            case \(P)_ERROR_WEIGHTS_ALIGNMENT: return "weights buffer not 64-byte aligned";
            case \(P)_ERROR_NO_WEIGHTS: return "no weights loaded";
            case \(P)_ERROR_NO_FRONTEND: return "the model has no front end";
            case \(P)_ERROR_MEMORY: return "out of memory";
            case \(P)_ERROR_NONFINITE: return "non-finite input (NaN or Inf)";
            default: return "unknown status";
            }
        }

        static uint64_t read_le(const unsigned char *p, int bytes) {
            uint64_t v = 0;
            for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
            return v;
        }

        /* Checks a weights image: magic, format version, model hash, sizes, checksum. */
        static int check_weights(\(p)_context *ctx, const unsigned char *d, size_t bytes, const char *origin) {
            static const unsigned char magic[8] = {'Q', 'E', 'M', 'L', 'W', 'T', 'S', 0};
            if (bytes < WEIGHTS_HEADER)
                return fail(ctx, \(P)_ERROR_WEIGHTS_SIZE, "%s: %zu bytes, shorter than the 64-byte header of a weights file (expected %llu bytes)",
                            origin, bytes, (unsigned long long)\(P)_WEIGHTS_BYTES);
            if (memcmp(d, magic, 8) != 0)
                return fail(ctx, \(P)_ERROR_WEIGHTS_FORMAT, "%s is not a qemlc weights file (no QEMLWTS magic)", origin);
            if (read_le(d + 8, 4) != \(WeightsImage.formatVersion) || read_le(d + 12, 4) != WEIGHTS_HEADER)
                return fail(ctx, \(P)_ERROR_WEIGHTS_FORMAT, "%s has weights format version %llu; this runtime reads version \(WeightsImage.formatVersion) (re-export with this qemlc)",
                            origin, (unsigned long long)read_le(d + 8, 4));
            if (read_le(d + 16, 8) != MODEL_HASH)
                return fail(ctx, \(P)_ERROR_WEIGHTS_MODEL, "%s was packed for model %016llx, this runtime is model %s (\\"\(graph.name)\\" on \(target.name)); export the weights together with this runtime",
                            origin, (unsigned long long)read_le(d + 16, 8), \(P)_MODEL_HASH);
            if (read_le(d + 24, 8) != WEIGHTS_PAYLOAD || bytes != WEIGHTS_HEADER + WEIGHTS_PAYLOAD)
                return fail(ctx, \(P)_ERROR_WEIGHTS_SIZE, "%s has %zu bytes, this model's weights have %llu (truncated or padded file?)",
                            origin, bytes, (unsigned long long)(WEIGHTS_HEADER + WEIGHTS_PAYLOAD));
            uint64_t h = 0xcbf29ce484222325ull;
            for (size_t i = WEIGHTS_HEADER; i + 8 <= bytes; i += 8) h = (h ^ read_le(d + i, 8)) * 0x100000001b3ull;
            if (h != read_le(d + 32, 8))
                return fail(ctx, \(P)_ERROR_WEIGHTS_CHECKSUM, "%s is corrupt: checksum %016llx, the header says %016llx",
                            origin, (unsigned long long)h, (unsigned long long)read_le(d + 32, 8));
            return \(P)_OK;
        }

        int \(p)_load_weights(\(p)_context *ctx, const void *data, size_t bytes) {
            if (!ctx) return \(P)_ERROR_ARGUMENT;
            if (!data) return fail(ctx, \(P)_ERROR_ARGUMENT, "load_weights: the buffer is NULL");
            if ((uintptr_t)data & 63) return fail(ctx, \(P)_ERROR_WEIGHTS_ALIGNMENT, "load_weights: the buffer must be 64-byte aligned");
            int status = check_weights(ctx, (const unsigned char *)data, bytes, "the weights buffer");
            if (status != \(P)_OK) return status;
            free(ctx->weights_owned);
            ctx->weights_owned = NULL;
            ctx->weights = (const float *)(const void *)((const unsigned char *)data + WEIGHTS_HEADER);
            return \(P)_OK;
        }

        int \(p)_load_weights_file(\(p)_context *ctx, const char *path) {
            if (!ctx) return \(P)_ERROR_ARGUMENT;
            if (!path) return fail(ctx, \(P)_ERROR_ARGUMENT, "load_weights_file: the path is NULL");
            FILE *f = fopen(path, "rb");
            if (!f) return fail(ctx, \(P)_ERROR_IO, "cannot open %s", path);
            long size = -1;
            if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
            if (size < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return fail(ctx, \(P)_ERROR_IO, "cannot read %s", path); }
            if ((unsigned long long)size != WEIGHTS_HEADER + WEIGHTS_PAYLOAD) {
                /* Read the header anyway: a wrong magic or model explains more than a wrong size. */
                unsigned char head[WEIGHTS_HEADER];
                size_t got = fread(head, 1, sizeof head, f);
                fclose(f);
                int status = check_weights(ctx, head, got, path);
                if (status == \(P)_OK || status == \(P)_ERROR_WEIGHTS_SIZE)
                    return fail(ctx, \(P)_ERROR_WEIGHTS_SIZE, "%s has %ld bytes, this model's weights have %llu (truncated or padded file?)",
                                path, size, (unsigned long long)(WEIGHTS_HEADER + WEIGHTS_PAYLOAD));
                return status;
            }
            unsigned char *raw = (unsigned char *)malloc((size_t)size + 64);
            if (!raw) { fclose(f); return fail(ctx, \(P)_ERROR_MEMORY, "cannot allocate %ld bytes for %s", size, path); }
            unsigned char *data = raw + ((64 - ((uintptr_t)raw & 63)) & 63);
            size_t got = fread(data, 1, (size_t)size, f);
            fclose(f);
            if (got != (size_t)size) { free(raw); return fail(ctx, \(P)_ERROR_IO, "cannot read %s (got %zu of %ld bytes)", path, got, size); }
            int status = check_weights(ctx, data, (size_t)size, path);
            if (status != \(P)_OK) { free(raw); return status; }
            free(ctx->weights_owned);
            ctx->weights_owned = raw;
            ctx->weights = (const float *)(const void *)(data + WEIGHTS_HEADER);
            return \(P)_OK;
        }

        """
    }

    /// The state-vector operations the circuits call (double precision, wire 0 most significant),
    /// by name: the runtime includes the ones its circuits use (and `q_apply`, which they all use).
    static let circuitPrelude = """
        /* ---- circuit: a state vector of 2^q amplitudes (re, im), PennyLane's gate conventions ---- */
        enum { Q_H, Q_X, Q_Y, Q_Z, Q_S, Q_T };

        """

    static let circuitHelpers: [(name: String, code: String)] = [
        ("q_apply", """
        /* Applies the 2x2 matrix m = {m00r, m00i, m01r, m01i, m10r, m10i, m11r, m11i} to the wire with
           bit `t`, on basis states whose `ctrl` bits are all 1. */
        static inline void q_apply(double *re, double *im, int q, int t, int ctrl, const double *m) {
            const int dim = 1 << q;
            for (int i = 0; i < dim; i++) {
                if ((i & t) || (i & ctrl) != ctrl) continue;
                const int j = i | t;
                const double a0r = re[i], a0i = im[i], a1r = re[j], a1i = im[j];
                re[i] = m[0] * a0r - m[1] * a0i + m[2] * a1r - m[3] * a1i;
                im[i] = m[0] * a0i + m[1] * a0r + m[2] * a1i + m[3] * a1r;
                re[j] = m[4] * a0r - m[5] * a0i + m[6] * a1r - m[7] * a1i;
                im[j] = m[4] * a0i + m[5] * a0r + m[6] * a1i + m[7] * a1r;
            }
        }
        """),
        ("q_rx", """
        static inline void q_rx(double *re, double *im, int q, int t, int ctrl, double theta) {
            const double c = cos(theta / 2), s = sin(theta / 2), m[8] = {c, 0, 0, -s, 0, -s, c, 0};
            q_apply(re, im, q, t, ctrl, m);
        }
        """),
        ("q_ry", """
        static inline void q_ry(double *re, double *im, int q, int t, int ctrl, double theta) {
            const double c = cos(theta / 2), s = sin(theta / 2), m[8] = {c, 0, -s, 0, s, 0, c, 0};
            q_apply(re, im, q, t, ctrl, m);
        }
        """),
        ("q_rz", """
        static inline void q_rz(double *re, double *im, int q, int t, int ctrl, double theta) {
            const double c = cos(theta / 2), s = sin(theta / 2), m[8] = {c, -s, 0, 0, 0, 0, c, s};
            q_apply(re, im, q, t, ctrl, m);
        }
        """),
        ("q_phaseshift", """
        static inline void q_phaseshift(double *re, double *im, int q, int t, int ctrl, double theta) {
            const double m[8] = {1, 0, 0, 0, 0, 0, cos(theta), sin(theta)};
            q_apply(re, im, q, t, ctrl, m);
        }
        """),
        ("q_fixed", """
        static inline void q_fixed(double *re, double *im, int q, int t, int ctrl, int kind) {
            static const double r = 0.70710678118654752440;
            static const double ms[6][8] = {
                {r, 0, r, 0, r, 0, -r, 0},  /* H */
                {0, 0, 1, 0, 1, 0, 0, 0},   /* X */
                {0, 0, 0, -1, 0, 1, 0, 0},  /* Y */
                {1, 0, 0, 0, 0, 0, -1, 0},  /* Z */
                {1, 0, 0, 0, 0, 0, 0, 1},   /* S */
                {1, 0, 0, 0, 0, 0, r, r},   /* T */
            };
            q_apply(re, im, q, t, ctrl, ms[kind]);
        }
        """),
        ("q_swap", """
        static inline void q_swap(double *re, double *im, int q, int m0, int m1) {
            for (int i = 0; i < (1 << q); i++) {
                if (!(i & m0) || (i & m1)) continue;
                const int j = (i & ~m0) | m1;
                double t = re[i]; re[i] = re[j]; re[j] = t;
                t = im[i]; im[i] = im[j]; im[j] = t;
            }
        }
        """),
        ("q_expval_z", """
        static inline double q_expval_z(const double *re, const double *im, int q, int t) {
            double sum = 0;
            for (int i = 0; i < (1 << q); i++) {
                if (i & t) continue;
                const int j = i | t;
                sum += re[i] * re[i] + im[i] * im[i] - re[j] * re[j] - im[j] * im[j];
            }
            return sum;
        }
        """),
        ("q_expval_x", """
        static inline double q_expval_x(const double *re, const double *im, int q, int t) {
            double sum = 0;
            for (int i = 0; i < (1 << q); i++) if (!(i & t)) sum += 2 * (re[i] * re[i | t] + im[i] * im[i | t]);
            return sum;
        }
        """),
        ("q_expval_y", """
        static inline double q_expval_y(const double *re, const double *im, int q, int t) {
            double sum = 0;
            for (int i = 0; i < (1 << q); i++) if (!(i & t)) sum += 2 * (re[i] * im[i | t] - im[i] * re[i | t]);
            return sum;
        }
        """),
        ("q_probs", """
        static inline void q_probs(const double *re, const double *im, int q, const int *masks, int n, float *out) {
            double p[1 << 12] = {0};
            for (int i = 0; i < (1 << q); i++) {
                int k = 0;
                for (int w = 0; w < n; w++) k = (k << 1) | ((i & masks[w]) != 0);
                p[k] += re[i] * re[i] + im[i] * im[i];
            }
            for (int k = 0; k < (1 << n); k++) out[k] = (float)p[k];
        }

        
        """),
    ]
}
