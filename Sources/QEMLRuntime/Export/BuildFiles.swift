/// The bundle's `Makefile` and README: how to build the fixed `main.c` (the `classify` example)
/// with the runtime, and what each file is.
extension ExportedModel {
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
        # The runtime is one translation unit: $(MODEL)_runtime.c (the model's tables) includes the fixed qeml_*.c.
        RUNTIME = $(MODEL)_runtime.c
        HEADERS = $(MODEL).h model.h \(CRuntimeFiles.names.filter { $0.hasPrefix("qeml") }.sorted().joined(separator: " "))

        .SUFFIXES:

        classify: main.c $(RUNTIME) $(HEADERS) $(MODEL).o
        \t$(CC) $(CFLAGS) -o $@ main.c $(RUNTIME) $(MODEL).o $(LDLIBS)

        clean:
        \trm -f classify

        .PHONY: clean

        """
    }

    var hasCircuit: Bool { steps.contains { if case .circuit = $0.action { return true }; return false } }

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
            | `\(stem)_runtime.c` | the model's tables (steps, arena offsets, front end constants\(hasCircuit ? ", circuit schedule" : "")), then the fixed runtime |
            | `\(stem).h` | the model's constants and C prefix; the C API is `qeml.h` (documented in the file) |
            | `qeml.h`, `qeml_tables.h`, `qeml_runtime.c`, `qeml_frontend.c`, `qeml_circuit.c` | the fixed runtime: context, weights loader, step driver, front end and FFT, circuit evaluator — the same bytes in every export |
            | `\(stem).weights` | the weights, pre-packed for the kernels (\(weightsBytes) bytes, header + checksum) |
            | `main.c`, `model.h`, `Makefile` | the `classify` example (`main.c` is fixed too; `model.h` names the model) |

            ## Build and run

                make                              # the host's cc; for the board: make CC=aarch64-linux-gnu-gcc
                ./classify signal.wav             # a WAV file (PCM16/float32; its first channel)
                ./classify samples.f32            # raw little-endian float32 samples: a .f32/.raw file, or - for stdin
                ./classify --weights other.weights a.wav b.wav

            Without `--weights`, `classify` loads \(embedded ? "the weights compiled into `\(stem).o`" : "`\(stem).weights` from the folder the program is in, then from\nthe working directory (an error names both places)").
            A signal holding NaN or Inf is refused (status `\(upper)_ERROR_NONFINITE` from the C API), as is
            a WAV file cut short inside its data or a file that is neither WAV nor `.f32`/`.raw`.

            Exit status (the same scheme as qemlc): **0** every signal classified, **1** a bad signal or
            weights file (the message on stderr names it; the other signals are still classified),
            **64** a usage error (unknown option, no signal).

            Each signal prints `label probability` lines, highest first. \(hasFrontEnd
                ? "Signals are \(frontEnd?.sampleRate.map { "sampled at \($0) Hz, " } ?? "")cropped\nor zero-padded to \(frontEnd?.length.map(String.init) ?? "the model's") samples."
                : "This model has no frontend section: give\n`classify` the network input itself as raw float32 (\(input.storage.channels)×\(input.storage.height)×\(input.storage.width) values), or call `\(p)_run_spectrogram`.")

            ## How it fits together

            `\(stem).o` holds one function per distinct kernel that qemlc's code generator made for
            \(target.name) — the code the JIT runs. Around it is plain C, and only the tables are
            generated: `\(stem)_runtime.c` lists the plan's steps (kernel, arena offsets, weight block)\(hasCircuit ? ",\nthe circuit planner's state-vector schedule" : "")\(frontEnd.map { ", the front end's constants (n_fft = \($0.stft.nFFT), window, twiddles)" } ?? ""), and
            includes the fixed runtime: `run_steps` in `qeml_runtime.c` calls the kernels in the plan's order
            over one arena with the weights file's blocks as their packed constants\(hasCircuit ? "; `qeml_circuit.c`\nruns the circuit's schedule on a double-precision state vector, as the JIT's circuit kernel does" : "")\(hasFrontEnd ? "; `qeml_frontend.c`\ncomputes the spectrogram as qemlc does" : ""). The driver is C,
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
