import XCTest
@testable import QEMLSignal

final class SignalOpsTests: XCTestCase {
    private var ops: [String: Any] = [:]

    override func setUpWithError() throws {
        ops = try XCTUnwrap(Fixtures.json("ops.json") as? [String: Any])
    }

    func testMelFilterBankMatchesLibrosa() throws {
        for key in ["mel_bank", "mel_bank_default"] {
            let c = try XCTUnwrap(ops[key] as? [String: Any])
            let bank = try MelFilterBank(sampleRate: c.int("sample_rate")!, nFFT: c.int("n_fft")!, nMels: c.int("n_mels")!,
                                         fmin: c.double("fmin")!, fmax: c.double("fmax"))
            assertClose(bank.weights, c.floats("expected"), key)
        }
        XCTAssertThrowsError(try MelFilterBank(sampleRate: 12000, nFFT: 256, nMels: 8, fmin: 0, fmax: 7000)) { e in
            XCTAssertEqual((e as? SignalError)?.fix, "choose 0 ≤ fmin < fmax ≤ sample_rate/2")
        }
    }

    func testHilbertEnvelopeMatchesSciPy() throws {
        for key in ["hilbert_600", "hilbert_601"] {
            let c = try XCTUnwrap(ops[key] as? [String: Any])
            assertClose(hilbertEnvelope(c.floats("signal")), c.floats("expected"), key)
        }
    }

    func testBilinearResizeMatchesTorchSemantics() throws {
        let keys = ops.keys.filter { $0.hasPrefix("resize_") }
        XCTAssertEqual(keys.count, 4)
        for key in keys {
            let c = try XCTUnwrap(ops[key] as? [String: Any])
            let out = bilinearResize(c.floats("input"), height: c.int("h")!, width: c.int("w")!, toHeight: c.int("oh")!, width: c.int("ow")!)
            assertClose(out, c.floats("expected"), rel: 1e-5, floorShare: 1e-6, key)
        }
    }

    func testResamplePolyMatchesSciPy() throws {
        let cases = try XCTUnwrap(Fixtures.json("resample.json") as? [[String: Any]])
        for c in cases {
            let out = try resamplePoly(c.floats("signal"), from: c.int("rate_in")!, to: c.int("rate_out")!)
            assertClose(out, c.floats("expected"), "resample \(c.int("rate_in")!)→\(c.int("rate_out")!)")
        }
        XCTAssertThrowsError(try resamplePoly([1], from: 0, to: 100))
        XCTAssertThrowsError(try resamplePoly([1], from: 1_000_003, to: 999_983)) { e in
            XCTAssertEqual((e as? SignalError)?.message, "resampling 1000003 Hz → 999983 Hz is the ratio 999983/1000003, which needs a 20000061-tap filter")
        }
    }

    func testDecibelsAndStandardize() throws {
        var s: [Float] = [1, 100, 1e-12, 0]
        try powerToDB(&s, ref: 1, amin: 1e-10, topDB: 50)
        XCTAssertEqual(s, [0, 20, -30, -30])  // −100 dB floors raised to 20 − 50
        XCTAssertThrowsError(try powerToDB(&s, topDB: -1))
        var z: [Float] = [1, 2, 3, 4]
        standardize(&z)
        XCTAssertEqual(z.reduce(0, +), 0, accuracy: 1e-6)
        XCTAssertEqual(z[3], Float(1.5 / 1.25.squareRoot()), accuracy: 1e-6)
        var c: [Float] = [2, 2]
        standardize(&c)
        XCTAssertEqual(c, [0, 0])
    }

    func testFFTWPlansAreCachedAndWisdomIsSavedAtomically() throws {
        let a = FFTW.shared.realForward(n: 64, howMany: 8)
        XCTAssertTrue(a === FFTW.shared.realForward(n: 64, howMany: 8))
        XCTAssertFalse(a === FFTW.shared.realForward(n: 64, howMany: 16))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-cache-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"]
        setenv("XDG_CACHE_HOME", dir.path, 1)
        defer { if let old { setenv("XDG_CACHE_HOME", old, 1) } else { unsetenv("XDG_CACHE_HOME") } }
        // A shape no other test plans: planning it writes the wisdom file.
        _ = FFTW.shared.realForward(n: 72, howMany: 8 + Int.random(in: 1...50) * 8)
        let folder = dir.appendingPathComponent("qemlc").path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["fftwf-wisdom"])  // no temp file left
        let text = try String(contentsOfFile: folder + "/fftwf-wisdom", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("(fftw-3.3"), String(text.prefix(40)))
    }
}
