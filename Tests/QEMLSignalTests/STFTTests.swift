import TestSupport
import XCTest
@testable import QEMLSignal

final class STFTTests: XCTestCase {
    /// librosa.stft, scipy.signal.stft (× sum(window)) and scipy.signal.spectrogram for every
    /// window, padding and scale the front end offers.
    func testMatchesLibrosaAndSciPy() throws {
        let cases = try XCTUnwrap(Fixtures.json("stft.json") as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for c in cases {
            let name = c.string("name") ?? "?"
            let stft = try STFT(nFFT: c.int("n_fft")!, hop: c.int("hop")!, winLength: c.int("win_length"),
                                window: WindowKind(rawValue: c.string("window")!)!, periodic: c["periodic"] as! Bool,
                                padding: Padding(rawValue: c.string("center")!)!)
            let x = c.floats("signal")
            let shape = c.ints("shape")
            XCTAssertEqual([stft.bins, stft.frameCount(length: x.count)], shape, name)
            let out: [Float]
            switch c.string("scale") {
            case "power": out = try stft(x, output: .power)
            case "log1p": out = try stft(x, output: .log1p)
            case "db":
                var p = try stft(x, output: .power)
                try powerToDB(&p, ref: c.double("ref")!, amin: c.double("amin")!, topDB: c.double("top_db"))
                out = p
            default: out = try stft(x, output: .magnitude)
            }
            assertClose(out, c.floats("expected"), floorShare: c.string("scale") == "power" ? 1e-6 : 1e-5, name)
        }
    }

    /// The fused log1p epilogue against libm's log1p, over the whole float range it meets.
    func testVectorLog1pAccuracy() {
        var errors: [Float] = []
        var x: Float = 1e-30
        while x < 1e30 {
            let v = vectorLog1p(SIMD4(x, x * 1.3, x * 1.7, x * 1.9))
            for (i, m) in [Float(1), 1.3, 1.7, 1.9].enumerated() {
                let e = Float(log1p(Double(x * m)))
                errors.append(abs(v[i] - e) / e)
            }
            x *= 1.21
        }
        XCTAssertLessThan(Agreement.largest(errors), 3e-7)
        XCTAssertEqual(vectorLog1p(SIMD4(repeating: 0))[0], 0)
    }

    /// The AVX2 epilogue (when the CPU has it) and the portable SSE/Swift one agree, and both
    /// match the references (the fixture test runs whichever this machine picks).
    func testEpilogueKernelsAgree() throws {
        var portable = try STFT(nFFT: 128, hop: 32)
        portable.allowAVX2 = false
        let fast = try STFT(nFFT: 128, hop: 32)
        let x: [Float] = (0..<3001).map { i in
            let t = Double(i)
            return Float(sin(t * 0.37) * exp(-t / 900) + 1e-4 * cos(t))
        }
        for output in [STFTOutput.power, .magnitude, .log1p] {
            assertClose(try fast(x, output: output), try portable(x, output: output), rel: 1e-6, floorShare: 1e-7, "\(output)")
        }
        let c = try XCTUnwrap((Fixtures.json("stft.json") as? [[String: Any]])?.first { $0.string("name") == "librosa_hann_reflect" })
        var p256 = try STFT(nFFT: 256, hop: 64)
        p256.allowAVX2 = false
        assertClose(try p256(c.floats("signal")), c.floats("expected"), "portable kernel vs librosa")
    }

    /// Odd FFT lengths and windows shorter than the frame, against a direct DFT in Double.
    func testOddLengthsAgainstDirectDFT() throws {
        for (nFFT, hop, win, padding) in [(255, 50, 255, Padding.reflect), (100, 33, 61, .constant), (63, 63, 63, .none)] {
            var stft = try STFT(nFFT: nFFT, hop: hop, winLength: win, window: .hamming, padding: padding)
            let x: [Float] = (0..<700).map { i in Float(sin(Double(i) * 0.21) + 0.3 * cos(Double(i * i) * 0.001)) }
            let frames = stft.frameCount(length: x.count)
            var expected = [Float](repeating: 0, count: stft.bins * frames)
            let pad = stft.padAmount
            for t in 0..<frames {
                let frame: [Double] = (0..<nFFT).map { k in
                    let i = t * hop + k - pad
                    let v: Float = (i >= 0 && i < x.count) ? x[i] : padding == .reflect ? x[reflectIndex(i, x.count)] : 0
                    return Double(v) * Double(stft.window[k])
                }
                for f in 0..<stft.bins {
                    var re = 0.0, im = 0.0
                    for (k, v) in frame.enumerated() {
                        let a = -2 * Double.pi * Double(f * k % nFFT) / Double(nFFT)
                        re += v * cos(a); im += v * sin(a)
                    }
                    expected[f * frames + t] = Float((re * re + im * im).squareRoot())
                }
            }
            for avx in [true, false] {
                stft.allowAVX2 = avx
                assertClose(try stft(x), expected, "n_fft \(nFFT), win \(win), \(padding), avx2 \(avx)")
            }
        }
    }

    /// A batch gives each signal exactly what it gets alone (tiles and scratch are shared).
    func testBatchEqualsSingles() throws {
        let stft = try STFT(nFFT: 64, hop: 16)
        let signals = (0..<3).map { s in (0..<500).map { Float(sin(Double($0 * (s + 1)) * 0.05)) } }
        let flat = signals.flatMap { $0 }
        let block = stft.bins * stft.frameCount(length: 500)
        var out = [Float](repeating: .nan, count: block * 3)
        try flat.withUnsafeBufferPointer { s in
            try out.withUnsafeMutableBufferPointer { try stft.batch(s, count: 3, output: .log1p, into: $0) }
        }
        for (b, x) in signals.enumerated() {
            XCTAssertEqual(Array(out[(b * block)..<((b + 1) * block)]), try stft(x, output: .log1p))
        }
    }

    func testFrameCountsAndEdges() throws {
        let stft = try STFT(nFFT: 256, hop: 64)
        XCTAssertEqual(stft.frameCount(length: 12_000), 188)  // 1 + 12000/64, librosa's count
        let none = try STFT(nFFT: 256, hop: 64, padding: .none)
        XCTAssertEqual(none.frameCount(length: 255), 0)
        XCTAssertThrowsError(try none([Float](repeating: 1, count: 100))) { e in
            XCTAssertEqual((e as? SignalError)?.message, "the signal has 100 samples, fewer than n_fft = 256 without centring")
        }
        XCTAssertThrowsError(try stft([])) { e in XCTAssertEqual((e as? SignalError)?.message, "the signal is empty") }
        // A 3-sample signal still reflects (numpy pads by repeated reflection).
        XCTAssertEqual(try stft([1, 2, 3]).count, stft.bins)
        XCTAssertEqual(reflectIndex(-1, 3), 1)
        XCTAssertEqual(reflectIndex(-3, 3), 1)
        XCTAssertEqual(reflectIndex(4, 3), 0)
        XCTAssertThrowsError(try STFT(nFFT: 256, hop: 0))
        XCTAssertThrowsError(try STFT(nFFT: 256, hop: 64, winLength: 300))
        XCTAssertThrowsError(try STFT(nFFT: 1, hop: 1))
    }

    func testWindowsMatchSciPyDefinitions() {
        // scipy.signal.get_window("hann", 4) == [0, 0.5, 1, 0.5]; symmetric hann(5) == [0, .5, 1, .5, 0]
        XCTAssertEqual(WindowKind.hann.values(length: 4, periodic: true), [0, 0.5, 1, 0.5])
        let sym = WindowKind.hann.values(length: 5, periodic: false)
        XCTAssertEqual(sym.map { ($0 * 1e6).rounded() / 1e6 }, [0, 0.5, 1, 0.5, 0])
        XCTAssertEqual(WindowKind.hamming.values(length: 2, periodic: true), [0.08, 1.0].map { Float($0) }, accuracy: 1e-7)
        // Centred: 4-long window in an 8-long frame starts at index 2.
        XCTAssertEqual(WindowKind.rectangular.frameWindow(nFFT: 8, winLength: 4, periodic: true), [0, 0, 1, 1, 1, 1, 0, 0])
    }
}

func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
