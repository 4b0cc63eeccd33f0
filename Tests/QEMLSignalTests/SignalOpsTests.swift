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
}
