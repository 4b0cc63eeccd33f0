import Foundation
import XCTest

/// Issue #14, every rough edge a new user hit: each message word for word, with its exit code
/// (0 ok, 1 bad input or model, 64 usage — swift-argument-parser's).
final class HardeningTests: CommandLineTestCase {
    let tiny = "examples/qemlnet-tiny.qir"
    let nonFiniteFix = "  fix: qemlc refuses non-finite input; clean the data first (numpy: np.isfinite(x).all())"

    // MARK: helpers

    /// A little-endian float32 .npy file.
    func npy(_ name: String, shape: [Int], _ values: [Float]) throws -> String {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var d = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        d.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        d.append(Data(header.utf8))
        values.withUnsafeBufferPointer { d.append(Data(buffer: $0)) }
        try d.write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// A float32 WAV file (format 3), `channels` interleaved.
    func floatWAV(_ name: String, rate: Int = 12000, channels: Int = 1, _ samples: [Float], truncateDataBy: Int = 0) throws -> String {
        var d = Data()
        func u32(_ v: Int) { d.append(contentsOf: withUnsafeBytes(of: UInt32(v).littleEndian, Array.init)) }
        func u16(_ v: Int) { d.append(contentsOf: withUnsafeBytes(of: UInt16(v).littleEndian, Array.init)) }
        let bytes = samples.count * 4
        d.append(Data("RIFF".utf8)); u32(36 + bytes); d.append(Data("WAVE".utf8))
        d.append(Data("fmt ".utf8)); u32(16); u16(3); u16(channels); u32(rate); u32(rate * 4 * channels); u16(4 * channels); u16(32)
        d.append(Data("data".utf8)); u32(bytes)
        samples.withUnsafeBufferPointer { d.append(Data(buffer: $0)) }
        try d.dropLast(truncateDataBy).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    func signal(_ n: Int = 12000) -> [Float] { (0..<n).map { Float(sin(Double($0) * 0.3) * 0.5) } }

    func tinyWeights() throws -> String {
        let w = path("tiny.safetensors")
        if !FileManager.default.fileExists(atPath: w) {
            let r = try qemlc("init-weights", tiny, "--seed", "1", "-o", w)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        return w
    }

    // MARK: non-finite input

    func testNonFiniteTensorIsRefusedOnEveryBackend() throws {
        let w = try tinyWeights()
        let n = try npy("n.npy", shape: [1, 2, 32, 32], [Float](repeating: .nan, count: 2048))
        for backend in ["jit", "blas", "interpret"] {
            let r = try qemlc("run", tiny, "--weights", w, "--input", "spectrogram=\(n)", "--json", "--backend", backend)
            XCTAssertEqual(r.status, 1, backend)
            XCTAssertEqual(r.stdout, "", "no class, no JSON (\(backend))")
            XCTAssertEqual(r.stderr, "error: \(n): index 0 [0,0,0,0]: NaN is not a finite number\n\(nonFiniteFix)\n", backend)
        }
        var values = [Float](repeating: 0.5, count: 2048)
        values[37] = -.infinity
        let inf = try npy("inf.npy", shape: [1, 2, 32, 32], values)
        let r = try qemlc("run", tiny, "--weights", w, "--input", inf)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: \(inf): index 37 [0,0,1,5]: -Inf is not a finite number\n\(nonFiniteFix)\n")
    }

    func testNonFiniteWAVSampleIsRefusedByRunAndSpectrogram() throws {
        let w = try tinyWeights()
        var x = signal()
        x[100] = .nan
        let wav = try floatWAV("nan.wav", x)
        let run = try qemlc("run", tiny, "--weights", w, "--input", wav, "--json")
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderr, "error: \(wav): sample 100: NaN is not a finite number\n\(nonFiniteFix)\n")
        let spec = try qemlc("spectrogram", wav, "-o", path("s.png"))
        XCTAssertEqual(spec.status, 1)
        XCTAssertEqual(spec.stderr, "error: \(wav): sample 100: NaN is not a finite number\n\(nonFiniteFix)\n")
        var stereo = [Float](repeating: 0.1, count: 2000)
        stereo[2 * 7 + 1] = .infinity  // channel 1, sample 7
        let two = try floatWAV("two.wav", channels: 2, stereo)
        let r = try qemlc("spectrogram", two, "-o", path("t.png"), "--channel", "1")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: \(two): channel 1, sample 7: +Inf is not a finite number\n\(nonFiniteFix)\n")
    }

    func testJSONIsValidJSON() throws {
        let w = try tinyWeights()
        let r = try qemlc("run", tiny, "--weights", w, "--input", "examples/signals/ball.wav", "--json", "--top", "2")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("nan"))
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)))
    }

    // MARK: arguments

    func testTopAndThreadsAreValidated() throws {
        let w = try tinyWeights()
        for (args, message) in [(["--top=-1"], "--top -1: must be at least 1"), (["--top", "0"], "--top 0: must be at least 1"),
                                (["--threads", "0"], "--threads 0: must be at least 1"), (["--threads=-1"], "--threads -1: must be at least 1")] {
            let r = try exec("qemlc", ["run", tiny, "--weights", w, "--input", "examples/signals/ball.wav"] + args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("Error: \(message)\nUsage: qemlc run "), r.stderr)
            XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("Stack dump"), r.stderr)
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let r = try qemlc("run", tiny, "--weights", w, "--input", "examples/signals/ball.wav", "--threads", "100000", "--top", "1")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "note: --threads 100000 lowered to \(4 * cores) (4 per core, \(cores) core\(cores == 1 ? "" : "s")): more threads than that only wait for each other\n")
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 3, "--top 1 prints one class:\n\(r.stdout)")
    }

    func testEveryNumericOptionIsValidated() throws {
        let cases: [([String], String)] = [
            (["bench", tiny, "--iterations", "0"], "--iterations 0: must be at least 1"),
            (["bench", tiny, "--batch", "0"], "--batch 0: must be at least 1"),
            (["bench", tiny, "--warmup=-1"], "--warmup -1: must be at least 0"),
            (["bench", tiny, "--threads", "0"], "--threads 0: must be at least 1"),
            (["spectrogram", "examples/signals/ball.wav", "-o", "x.png", "--n-fft", "1"], "--n-fft 1: must be at least 2"),
            (["spectrogram", "examples/signals/ball.wav", "-o", "x.png", "--hop", "0"], "--hop 0: must be at least 1"),
            (["spectrogram", "examples/signals/ball.wav", "-o", "x.png", "--amin", "0"], "--amin 0: must be a positive number"),
            (["spectrogram", "examples/signals/ball.wav", "-o", "x.png", "--top-db=-3"], "--top-db -3.0: must be a non-negative number"),
            (["synth", "ball", "-o", "x.wav", "--rpm", "0"], "--rpm 0: must be between 1 and 100000 rpm"),
            (["synth", "ball", "-o", "x.wav", "--rpm", "nan"], "--rpm nan: not a number"),
            (["synth", "ball", "-o", "x.wav", "--snr", "loud"], "--snr loud: not a number"),
            (["synth", "ball", "-o", "x.wav", "--duration", "0"], "--duration 0: must be a positive number seconds"),
            (["bench-frontend", "--n-fft", "1"], "--n-fft 1: must be at least 2"),
            (["envelope", "examples/signals/ball.wav", "-o", "x.png", "--rpm=-5"], "--rpm -5: must be a positive number rpm"),
            (["envelope", "examples/signals/ball.wav", "-o", "x.png", "--band", "4000:2000"], "--band 4000:2000: give LO:HI in Hz with 0 ≤ LO < HI, e.g. --band 2000:4000"),
        ]
        for (args, message) in cases {
            let r = try exec("qemlc", args, in: work)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("Error: \(message)\n"), "\(args): \(r.stderr)")
        }
    }

    func testExitCodeScheme() throws {
        XCTAssertEqual(try qemlc("check", tiny, "--summary").status, 0)
        XCTAssertEqual(try qemlc("check", tiny, "--no-such-flag").status, 64)
        XCTAssertEqual(try qemlc("run").status, 64)
        let bad = try write("bad.qir", "input %x: f32[1,4]\n%y = relux(%x)\n")
        XCTAssertEqual(try qemlc("check", bad).status, 1)
    }

    // MARK: files

    func testAMissingFileIsWordedOnce() throws {
        let w = try tinyWeights()
        let nope = path("nope")
        let cases: [([String], String, String)] = [
            (["check", nope + ".qir"], nope + ".qir", "MODEL"),
            (["run", tiny, "--weights", nope + ".safetensors", "--input", "examples/signals/ball.wav"], nope + ".safetensors", "--weights"),
            (["run", tiny, "--weights", w, "--input", nope + ".wav"], nope + ".wav", "--input"),
            (["spectrogram", nope + ".wav", "-o", path("x.png")], nope + ".wav", "SIGNAL"),
            (["envelope", nope + ".wav", "-o", path("x.png")], nope + ".wav", "SIGNAL"),
        ]
        for (args, file, given) in cases {
            let r = try exec("qemlc", args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertEqual(r.stderr, "error: \(file): no such file\n  fix: check the path given to \(given)\n", "\(args)")
        }
    }

    func testAMissingOutputFolderIsWordedOnce() throws {
        let w = try tinyWeights()
        let dir = path("absent")
        let cases: [[String]] = [
            ["spectrogram", "examples/signals/ball.wav", "-o", dir + "/x.png"],
            ["init-weights", tiny, "-o", dir + "/x.png"],
            ["synth", "ball", "-o", dir + "/x.png"],
            ["run", tiny, "--weights", w, "--input", "examples/signals/ball.wav", "--output", "spectrogram=\(dir)/x.png"],
            ["envelope", "examples/signals/ball.wav", "-o", dir + "/x.png"],
        ]
        for args in cases {
            let r = try exec("qemlc", args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertEqual(r.stderr, "error: \(dir)/x.png: the folder '\(dir)' does not exist\n  fix: create it first (mkdir -p '\(dir)'), or choose another path\n", "\(args)")
        }
    }

    func testSynthExamplesCreatesItsFolder() throws {
        let dir = path("new/examples")
        let r = try qemlc("synth", "--examples", dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/ball.wav"))
    }

    // MARK: models

    func testEmptyModelIsRefusedEverywhere() throws {
        let m = try write("empty.qir", "")
        for args in [["check", m], ["compile", m], ["init-weights", m, "-o", path("w.safetensors")]] {
            let r = try exec("qemlc", args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertEqual(r.stderr, """
                \(m):1:1: error: the model declares no input (the file is empty)
                  \("")
                  ^
                  note: declare one, e.g. `input %spectrogram: f32[1,1,64,64]` (ir/LANGUAGE.md)

                """, "\(args)")
        }
    }

    func testLabelsMustMatchTheClassOutput() throws {
        let edge = try String(contentsOfFile: Self.repo.appendingPathComponent(tiny).path, encoding: .utf8)
        let m = try write("seven.qir", edge.replacingOccurrences(of: ", \"unbalance\"]", with: "]"))
        let r = try qemlc("check", m)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("\(m):10:1: error: labels has 7 names but the class output %probs has 8 classes\n"), r.stderr)
    }

    func testDeclaredInputMustMatchTheFrontend() throws {
        let text = try String(contentsOfFile: Self.repo.appendingPathComponent(tiny).path, encoding: .utf8)
        let m = try write("resized.qir", text.replacingOccurrences(of: "resize = [32, 32]", with: "resize = [16, 16]"))
        let r = try qemlc("check", m)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("\(m):12:1: error: the frontend produces f32[1,2,16,16] but %spectrogram is declared f32[N,2,32,32]\n"), r.stderr)
        XCTAssertTrue(r.stderr.contains("note: change the input line to `input %spectrogram: f32[1,2,16,16]`"), r.stderr)
    }

    // MARK: signals

    func testSpectrogramNetworkInputResamplesOrRefusesAndMatchesRun() throws {
        let w = try tinyWeights()
        let wav48 = path("ir48.wav")
        XCTAssertEqual(try qemlc("synth", "inner_race", "-o", wav48, "--sample-rate", "48000").status, 0)
        let refused = try qemlc("spectrogram", wav48, "-o", path("a.npy"), "--model", tiny, "--network-input")
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr, """
            error: \(wav48) is sampled at 48000 Hz but the model's front end expects 12000 Hz
              fix: pass --resample to resample it to 12000 Hz (polyphase, like scipy.signal.resample_poly), or record at 12000 Hz

            """)
        let ok = try qemlc("spectrogram", wav48, "-o", path("a.npy"), "--model", tiny, "--network-input", "--resample")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "wrote \(path("a.npy")): 32×32 (frequency × frames), n_fft 2048, hop 256, log1p\n")
        // What run feeds the network, from the same file.
        let run = try qemlc("run", tiny, "--weights", w, "--input", wav48, "--resample", "--output", "spectrogram=\(path("b.npy"))")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a.npy"))), try Data(contentsOf: URL(fileURLWithPath: path("b.npy"))))
        XCTAssertEqual(try qemlc("spectrogram", wav48, "-o", path("a.png"), "--model", tiny, "--network-input", "--resample").status, 0)
    }

    func testSpectrogramSaysWhenTheFrontEndCrops() throws {
        let wav = path("long.wav")
        XCTAssertEqual(try qemlc("synth", "ball", "-o", wav, "--duration", "2").status, 0)
        let r = try qemlc("spectrogram", wav, "-o", path("l.png"), "--model", tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "note: the front end takes the first 12000 samples (length = 12000, 1.00 s at 12000 Hz) of 24000\n"
                       + "note: the front end makes 2 channels (signal, rectified); the picture shows the first, a .npy holds all\n")
    }

    func testStereoWAVWarnsAndNamesChannel() throws {
        let w = try tinyWeights()
        let stereo = "examples/signals/stereo_float32.wav"
        let r = try qemlc("run", tiny, "--weights", w, "--input", stereo, "--top", "1", "--resample")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: \(stereo) has 2 channels; using channel 0 (pass --channel N to choose)\n"), r.stderr)
        let chosen = try qemlc("run", tiny, "--weights", w, "--input", stereo, "--top", "1", "--channel", "1", "--resample")
        XCTAssertFalse(chosen.stderr.contains("warning"), chosen.stderr)
    }

    func testSpectrogramSciPyAndLibrosaFlags() throws {
        let r = try qemlc("spectrogram", "examples/signals/ball.wav", "-o", path("s.npy"), "--scaling", "spectrum", "--scale", "db",
                          "--ref", "2", "--amin", "1e-4", "--top-db", "60", "--center", "constant")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix(", db\n"), r.stdout)
        let bad = try qemlc("spectrogram", "examples/signals/ball.wav", "-o", path("t.npy"), "--scaling", "density")
        XCTAssertEqual(bad.status, 64)
    }

    func testEnvelopeNamesTheStrongestMatch() throws {
        let wav = path("outer.wav")
        XCTAssertEqual(try qemlc("synth", "outer_race", "-o", wav, "--snr", "0").status, 0)
        let r = try qemlc("envelope", wav, "-o", path("e.png"), "--band", "2000:4000", "--rpm", "1797")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("wrote \(path("e.png")): envelope spectrum, 6001 bins of 1 Hz, band 2000-4000 Hz\nbearing 6205: 9 balls"), r.stdout)
        XCTAssertTrue(r.stdout.contains("strongest match: BPFO (107.36 Hz)"), r.stdout)
        let png = try Data(contentsOf: URL(fileURLWithPath: path("e.png")))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let npy = try qemlc("envelope", wav, "-o", path("e.npy"), "--bearing", "n=9,d=7.94,D=39.04,angle=0", "--rpm", "1797")
        XCTAssertEqual(npy.status, 0, npy.stderr)
        let bad = try qemlc("envelope", wav, "-o", path("f.png"), "--bearing", "6299")
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.hasPrefix("Error: --bearing: unknown bearing '6299' (give a known bearing (6205, 6203) or its geometry as \"n=9,d=7.94,D=39.04,angle=0\")\n"), bad.stderr)
        let noRPM = try qemlc("envelope", wav, "-o", path("g.png"))
        XCTAssertEqual(noRPM.status, 0)
        XCTAssertTrue(noRPM.stdout.hasSuffix("note: pass --rpm (and --bearing) to mark and score the fault frequencies\n"), noRPM.stdout)
    }

    // MARK: help and reports

    func testHelpIsConsistent() throws {
        let spectrogram = try qemlc("spectrogram", "--help").stdout
        XCTAssertTrue(spectrogram.contains("USAGE: qemlc spectrogram <signal> --output <output> [--model <model>]"), spectrogram)
        XCTAssertFalse(spectrogram.contains("[<options>]"), spectrogram)
        let run = try qemlc("run", "--help").stdout
        XCTAssertTrue(run.contains("How many classes to print (default: every class)."), run)
        let synth = try qemlc("synth", "--help").stdout
        XCTAssertTrue(synth.contains("USAGE: qemlc synth <fault> --output <output> ["), synth)
        XCTAssertTrue(synth.contains("qemlc synth --examples <folder> [--force]"), synth)
        let missing = try qemlc("synth", "ball")
        XCTAssertEqual(missing.status, 64)
        XCTAssertTrue(missing.stderr.hasPrefix("Error: Missing expected argument '--output <output>' (a .wav file)\n"), missing.stderr)
        let circuit = try qemlc("bench-circuit", "--help").stdout
        XCTAssertTrue(circuit.contains("--emit-asm <emit-asm>"), circuit)
        let compile = try qemlc("compile", "--help").stdout
        XCTAssertTrue(compile.contains("--emit-asm <emit-asm>"), compile)
    }

    func testCompileReportUsesOneByteUnit() throws {
        let r = try qemlc("compile", tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains(" MB") || r.stdout.contains(" kB"), r.stdout)
        XCTAssertTrue(r.stdout.contains("arena: 80.0 KiB per sample (one buffer per value: 126.4 KiB, 1.6× smaller)"), r.stdout)
    }

    func testBenchRowsStayNarrow() throws {
        let r = try qemlc("bench", tiny, "--iterations", "2", "--warmup", "0", "--threads", "1")
        XCTAssertEqual(r.status, 0, r.stderr)
        let widest = r.stdout.split(separator: "\n").map(\.count).max() ?? 0
        XCTAssertLessThanOrEqual(widest, 125, r.stdout)
    }

    func testExportRefusesAScalingItCannotRun() throws {
        let w = try tinyWeights()
        let text = try String(contentsOfFile: Self.repo.appendingPathComponent(tiny).path, encoding: .utf8)
        let m = try write("scaled.qir", text.replacingOccurrences(of: "  scale = \"log1p\"\n", with: "  scaling = \"spectrum\"\n  scale = \"log1p\"\n"))
        XCTAssertEqual(try qemlc("check", m, "--summary").status, 0)
        let r = try qemlc("export", m, "--weights", w, "-o", path("scaled"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("frontend scaling = \"spectrum\" is not supported by the exported runtime yet"), r.stderr)
    }

    func testExportPrintsTheFolderOnce() throws {
        let w = try tinyWeights()
        let r = try qemlc("export", tiny, "--weights", w, "-o", path("edge") + "/")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains(" to \(path("edge"))/\n"), r.stdout)
        XCTAssertFalse(r.stdout.contains("//"), r.stdout)
    }
}
