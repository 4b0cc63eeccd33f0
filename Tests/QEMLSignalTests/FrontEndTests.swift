import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLSignal

final class FrontEndTests: XCTestCase {
    func testWholeFrontEndsMatchReferences() throws {
        try checkFrontEnds("frontend.json")
    }

    /// scipy.signal.stft's scaling="spectrum"/"psd" and librosa.amplitude_to_db's ref/amin/top_db
    /// (amin floors the magnitude), as the `scaling`, `ref`, `amin` and `top_db` settings.
    func testSciPyScalingAndLibrosaAmplitudeToDB() throws {
        try checkFrontEnds("scaling.json", count: 6)
    }

    func checkFrontEnds(_ file: String, count: Int? = nil) throws {
        let cases = try XCTUnwrap(Fixtures.json(file) as? [[String: Any]])
        if let count { XCTAssertEqual(cases.count, count) }
        for c in cases {
            let name = c.string("name")!
            let settings = try XCTUnwrap(c["settings"] as? [String: Any]).sorted { $0.key < $1.key }.map { (k, v) -> (String, Attribute) in
                switch v {
                case let s as String: return (k, .string(s))
                case let a as [NSNumber]: return (k, .ints(a.map(\.intValue)))
                case let n as NSNumber where ["envelope", "standardize", "periodic"].contains(k): return (k, .bool(n.boolValue))
                case let n as NSNumber where ["fmin", "fmax", "top_db", "ref", "amin"].contains(k): return (k, .float(n.doubleValue))
                case let n as NSNumber: return (k, .int(n.intValue))
                default: fatalError("fixture setting \(k)")
                }
            }
            let fe = try FrontEnd(spec: FrontendSpec(output: "spectrogram", settings: settings))
            let x = c.floats("signal")
            let out = try fe.run(x, sampleRate: 12000)
            XCTAssertEqual(out.shape, c.ints("shape"), name)
            XCTAssertEqual(fe.outputShape(samples: x.count), c.ints("shape"), name)
            assertClose(out.data, c.floats("expected"), rel: 2e-4, floorShare: 2e-5, name)
        }
    }

    func testDefaultsAreTheDeclaredOnes() throws {
        let fe = try FrontEnd(spec: FrontendSpec(output: "spectrogram", settings: []))
        XCTAssertEqual(fe.stft.nFFT, 256)
        XCTAssertEqual(fe.stft.hop, 64)
        XCTAssertEqual(fe.stft.padding, .reflect)
        XCTAssertEqual(fe.scale, "log1p")
        let t = try fe.run((0..<1000).map { Float($0 % 7) }, sampleRate: 8000)
        XCTAssertEqual(t.shape, [1, 1, 129, 16])
    }

    func testSampleRateMismatchSaysHowToResample() throws {
        let fe = try FrontEnd(spec: FrontendSpec(output: "x", settings: [("sample_rate", .int(12000))]))
        XCTAssertThrowsError(try fe.run([Float](repeating: 0, count: 1000), sampleRate: 48000)) { e in
            XCTAssertEqual("\(e)", """
                error: the signal is sampled at 48000 Hz but the model's front end expects 12000 Hz
                  fix: pass --resample to resample it to 12000 Hz (polyphase, like scipy.signal.resample_poly), or record at 12000 Hz
                """)
        }
    }

    func testBadSettingsAreErrorsNotCrashes() {
        let bad: [(String, Attribute, String)] = [
            ("n_fft", .int(0), "frontend: n_fft = 0 is out of range"),
            ("window", .string("kaiser"), "frontend: window must be one of \"hann\", \"hamming\", \"blackman\", \"rectangular\""),
            ("hop", .string("x"), "frontend: hop must be an integer, not \"x\""),
            ("resize", .ints([0, 4]), "frontend: resize must be two positive integers [H, W]"),
            ("amin", .float(0), "frontend: amin must be positive"),
        ]
        for (k, v, msg) in bad {
            XCTAssertThrowsError(try FrontEnd(spec: FrontendSpec(output: "x", settings: [(k, v)]))) { e in
                XCTAssertEqual((e as? SignalError)?.message, msg)
            }
        }
    }

    func testRecordingsAreResampledOnlyWhenAsked() throws {
        let fe = try FrontEnd(spec: FrontendSpec(output: "x", settings: [("sample_rate", .int(12000)), ("channel", .int(1)), ("resize", .ints([8, 8]))]))
        let tone = (0..<4800).map { Float(sin(Double($0) * 0.05)) }
        let rec = Recording(channels: [[Float](repeating: 0, count: 4800), tone], sampleRate: 48000)
        XCTAssertThrowsError(try fe.run(rec, path: "a.wav")) { e in
            XCTAssertEqual((e as? SignalError)?.fix, "pass --resample to resample it to 12000 Hz (polyphase, like scipy.signal.resample_poly), or record at 12000 Hz")
        }
        let (x, rate) = try fe.prepare(rec, path: "a.wav", resample: true)
        XCTAssertEqual(rate, 12000)
        XCTAssertEqual(x, try resamplePoly(tone, from: 48000, to: 12000))  // channel 1 from the section
        XCTAssertEqual(try fe.run(rec, path: "a.wav", resample: true).shape, [1, 1, 8, 8])
        XCTAssertThrowsError(try fe.run(rec, path: "a.wav", channel: 2, resample: true))
        // No rate in the file: the model's rate is assumed; neither: an error.
        XCTAssertEqual(try fe.prepare(Recording(channels: [[1], [2]], sampleRate: nil), path: "s.csv").1, 12000)
        let bare = try FrontEnd(spec: FrontendSpec(output: "x", settings: []))
        XCTAssertThrowsError(try bare.prepare(Recording(channels: [[1]], sampleRate: nil), path: "s.csv")) { e in
            XCTAssertEqual("\(e)", "error: s.csv records no sample rate and the model's frontend sets no sample_rate\n  fix: add sample_rate to the frontend section or use a WAV file")
        }
    }

    func testSpectrogramBeforeResizeAndPicture() throws {
        let fe = try FrontEnd(spec: FrontendSpec(output: "x", settings: [("n_fft", .int(128)), ("hop", .int(32)), ("n_mels", .int(20)),
                                                                      ("scale", .string("db")), ("resize", .ints([16, 16]))]))
        let x = (0..<2000).map { Float(sin(Double($0 * $0) * 1e-4)) }
        XCTAssertEqual(try fe.spectrogram(x, sampleRate: 8000).shape, [1, 1, 20, 63])
        XCTAssertEqual(try fe.run(x, sampleRate: 8000).shape, [1, 1, 16, 16])
        let png = try fe.picture(x, sampleRate: 8000)
        XCTAssertEqual(Array(png[1..<4]), Array("PNG".utf8))
    }
}
