import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLSignal

final class FrontEndTests: XCTestCase {
    func testWholeFrontEndsMatchReferences() throws {
        let cases = try XCTUnwrap(Fixtures.json("frontend.json") as? [[String: Any]])
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
}
