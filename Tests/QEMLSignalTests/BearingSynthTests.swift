import TestSupport
import XCTest
@testable import QEMLSignal

final class BearingSynthTests: XCTestCase {
    let f = BearingSynth.Bearing.skf6205.frequencies(shaftHz: 1797.0 / 60)

    func testCWRUDefectFrequencies() {
        // CWRU's published multiples of shaft speed for the 6205-2RS JEM SKF.
        XCTAssertEqual(f.bpfo / f.shaft, 3.5848, accuracy: 1e-4)
        XCTAssertEqual(f.bpfi / f.shaft, 5.4152, accuracy: 1e-4)
        XCTAssertEqual(2 * f.bsf / f.shaft, 4.7135, accuracy: 1e-4)
        XCTAssertEqual(f.ftf / f.shaft, 0.39828, accuracy: 1e-4)
    }

    /// The strongest line between `low` and `high` Hz of the envelope spectrum, demodulated around
/// the 3 kHz resonance as an analyst would (1 s at 12 kHz: 1 Hz bins).
    private func envelopePeak(_ fault: BearingSynth.Fault, low: Double, high: Double) throws -> Double {
        var s = BearingSynth.Settings(fault: fault)
        s.seed = 7
        let x = try BearingSynth.generate(s)
        XCTAssertEqual(x.count, 12_000)
        let spec = envelopeSpectrum(x, sampleRate: 12_000, band: 1_500...4_500)
        let binHz = 12_000.0 / Double(x.count)
        let band = Int(low / binHz)...Int(high / binHz)
        let k = band.max { spec[$0] < spec[$1] }!
        return Double(k) * binHz
    }

    func testEnvelopeSpectrumPeaksAtTheDefectFrequency() throws {
        XCTAssertEqual(try envelopePeak(.outerRace, low: 5, high: 500), f.bpfo, accuracy: 1)
        // Above the shaft-rate modulation line, the inner-race impacts dominate at BPFI.
        XCTAssertEqual(try envelopePeak(.innerRace, low: 2 * f.shaft, high: 500), f.bpfi, accuracy: 1)
        XCTAssertEqual(try envelopePeak(.ball, low: 2 * f.shaft, high: 500), 2 * f.bsf, accuracy: 1)
        // Cage impacts are 84 ms apart and 8 ms long: their harmonics are nearly as strong as the
        // fundamental, so the strongest line is some multiple of FTF, and FTF itself is the
        // strongest below 1.5·FTF.
        let cage = try envelopePeak(.cage, low: 5, high: 500)
        XCTAssertEqual(cage, (cage / f.ftf).rounded() * f.ftf, accuracy: 1)
        XCTAssertEqual(try envelopePeak(.cage, low: 5, high: 1.5 * f.ftf), f.ftf, accuracy: 1)
    }

    func testInnerRaceCarriesShaftSidebands() throws {
        var s = BearingSynth.Settings(fault: .innerRace)
        s.snrDB = nil
        let spec = envelopeSpectrum(try BearingSynth.generate(s), sampleRate: 12_000, band: 1_500...4_500)
        let median = spec[5...600].sorted()[298]
        for side in [f.bpfi - f.shaft, f.bpfi + f.shaft] {
            let k = Int(side.rounded())
            XCTAssertGreaterThan(Agreement.largest(spec[(k - 1)...(k + 1)]), 10 * median, "sideband at \(side) Hz")
        }
    }

    func testHealthyHasNoDefectLines() throws {
        let spec = envelopeSpectrum(try BearingSynth.generate(.init(fault: .healthy)), sampleRate: 12_000, band: 1_500...4_500)
        let median = spec[5...600].sorted()[298]
        for fault in [f.bpfo, f.bpfi, 2 * f.bsf] {
            let k = Int(fault.rounded())
            XCTAssertLessThan(Agreement.largest(spec[(k - 1)...(k + 1)]), 6 * median, "line at \(fault) Hz")
        }
    }

    func testDeterministicBySeedAndNoiseFollowsSNR() throws {
        var s = BearingSynth.Settings(fault: .outerRace)
        s.seed = 3
        XCTAssertEqual(try BearingSynth.generate(s), try BearingSynth.generate(s))
        var t = s
        t.seed = 4
        XCTAssertNotEqual(try BearingSynth.generate(s), try BearingSynth.generate(t))
        // The added noise sits SNR dB below the machine's vibration.
        s.snrDB = 6
        let (clean, noise) = try BearingSynth.components(s)
        let ratio = 10 * log10(clean.reduce(0) { $0 + $1 * $1 } / noise.reduce(0) { $0 + $1 * $1 })
        XCTAssertEqual(ratio, 6, accuracy: 0.2)
        XCTAssertEqual(Agreement.largest(try BearingSynth.generate(s).map(abs)), 0.5, accuracy: 1e-6)
        s.resonance = 7000
        XCTAssertThrowsError(try BearingSynth.generate(s))
    }
}

final class ExampleSignalsTests: XCTestCase {
    /// The committed recordings are what the generator makes (to one 16-bit step).
    func testCommittedExamplesAreReproducible() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/signals").path
        for e in ExampleSignals.all {
            let rec = try WAVReader.read(folder + "/" + e.file)
            XCTAssertEqual(rec.sampleRate, 12_000, e.file)
            let expected = try ExampleSignals.samples(e)
            XCTAssertEqual(rec.channels.count, expected.count, e.file)
            for (a, b) in zip(rec.channels, expected) {
                XCTAssertEqual(a.count, b.count, e.file)
                XCTAssertLessThanOrEqual(Agreement.absolute(a, b), 1.0 / 32768 + 1e-7, e.file)
            }
        }
    }
}
