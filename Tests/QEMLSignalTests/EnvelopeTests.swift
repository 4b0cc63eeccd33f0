import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLSignal

/// The envelope spectrum against scipy.signal.hilbert on the same band (Fixtures/envelope.json,
/// scripts/signal_reference.py), the bearing geometry, and the strongest-match scoring.
final class EnvelopeTests: XCTestCase {
    func testEnvelopeAndSpectrumMatchSciPy() throws {
        let cases = try XCTUnwrap(Fixtures.json("envelope.json") as? [[String: Any]])
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let name = c.string("name")!
            let rate = c.int("sample_rate")!
            let band = (c["band"] as? [NSNumber]).map { $0[0].doubleValue...$0[1].doubleValue }
            let x = c.floats("signal")
            assertClose(hilbertEnvelope(x, sampleRate: rate, band: band), c.floats("envelope"), rel: 1e-4, floorShare: 1e-5, name + " envelope")
            let spectrum = envelopeSpectrum(x, sampleRate: rate, band: band)
            assertClose(spectrum, c.floats("spectrum"), rel: 1e-3, floorShare: 1e-5, name + " spectrum")
            // The mean is kept, as SciPy keeps it: bin 0 is the envelope's sum.
            let sum = hilbertEnvelope(x, sampleRate: rate, band: band).reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(Double(spectrum[0]), sum, accuracy: 1e-3 * sum, name)
        }
    }

    func testBearingGeometry() throws {
        let b = try BearingGeometry.parse("6205")
        XCTAssertEqual(b.balls, 9)
        let f = b.bearing.frequencies(shaftHz: 1797.0 / 60)
        XCTAssertEqual(f.bpfo / f.shaft, 3.5848, accuracy: 1e-3)   // the CWRU data set's published ratios
        XCTAssertEqual(f.bpfi / f.shaft, 5.4152, accuracy: 1e-3)
        let fan = try BearingGeometry.parse("6203").bearing.frequencies(shaftHz: 1)
        XCTAssertEqual(fan.bpfo, 3.0530, accuracy: 1e-3)
        XCTAssertEqual(fan.bpfi, 4.9469, accuracy: 1e-3)
        let custom = try BearingGeometry.parse("n=9,d=7.94,D=39.04,angle=0")
        XCTAssertEqual(custom.bearing.frequencies(shaftHz: 1).bpfo, b.bearing.frequencies(shaftHz: 1).bpfo, accuracy: 1e-12)
        let errors: [(String, String)] = [
            ("6299", "unknown bearing '6299'"),
            ("n=9,d=7.94", "bearing 'n=9,d=7.94': n, d and D are needed"),
            ("n=9,d=40,D=39", "bearing 'n=9,d=40,D=39': needs 0 < d < D (ball diameter below pitch diameter)"),
            ("n=9,d=7,D=39,angle=95", "bearing 'n=9,d=7,D=39,angle=95': angle = 95.0 must be in [0, 90) degrees"),
            ("n=x,d=7,D=39", "bearing 'n=x,d=7,D=39': cannot read 'n=x'"),
        ]
        for (text, message) in errors {
            XCTAssertThrowsError(try BearingGeometry.parse(text)) { XCTAssertEqual(($0 as? SignalError)?.message, message) }
        }
    }

    func testStrongestMatchIsTheFaultSynthesized() throws {
        let expected: [(BearingSynth.Fault, String)] = [(.outerRace, "BPFO"), (.innerRace, "BPFI")]
        for (fault, name) in expected {
            var s = BearingSynth.Settings(fault: fault)
            s.snrDB = 0
            let a = try EnvelopeAnalysis(try BearingSynth.generate(s), sampleRate: 12_000, band: 2_000...4_000,
                                         shaftHz: s.rpm / 60, bearing: try BearingGeometry.parse("6205"))
            XCTAssertEqual(a.strongest?.name, name, "\(fault)")
            XCTAssertEqual(a.tensor.shape, [2, 6001])
            let png = a.png()
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        }
        XCTAssertThrowsError(try EnvelopeAnalysis([Float](repeating: 0, count: 100), sampleRate: 1000, band: 100...900, shaftHz: nil,
                                                  bearing: try BearingGeometry.parse("6205"))) { e in
            XCTAssertEqual((e as? SignalError)?.message, "--band 100.0:900.0 must lie within 0…500 Hz (the Nyquist frequency) with LO < HI")
        }
    }

    func testNonFiniteSamplesAreRefusedByTheReaders() throws {
        var x: [Float] = [0, 0.5, -0.5, .nan, 1]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let wav = dir.appendingPathComponent("x.wav").path
        try WAVWriter.write([x], sampleRate: 8000, to: wav, encoding: .float32)
        XCTAssertThrowsError(try SignalFile.read(wav)) { e in
            XCTAssertEqual("\(e)", "\(wav): sample 3: NaN is not a finite number\n  fix: qemlc refuses non-finite input; clean the data first (numpy: np.isfinite(x).all())")
        }
        x[3] = 0
        try WAVWriter.write([x], sampleRate: 8000, to: wav, encoding: .float32, overwrite: true)
        XCTAssertEqual(try SignalFile.read(wav).channels[0], x, "finite samples read as written")
        let npy = dir.appendingPathComponent("x.npy").path
        try NPY.write(Tensor(shape: [2, 2], data: [0, 1, .infinity, 2]), to: npy)
        XCTAssertThrowsError(try SignalFile.read(npy)) { e in
            XCTAssertEqual("\(e)", "\(npy): index 2 [1,0]: +Inf is not a finite number\n  fix: qemlc refuses non-finite input; clean the data first (numpy: np.isfinite(x).all())")
        }
        XCTAssertThrowsError(try SignalFile.read(dir.appendingPathComponent("absent.wav").path)) { e in
            XCTAssertEqual("\(e)", "\(dir.path)/absent.wav: no such file\n  fix: check the path")
        }
    }
}
