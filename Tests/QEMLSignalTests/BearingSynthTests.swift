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

/// The fault classes added for the labelled data sets, the bearing table, and the data sets.
final class FaultClassTests: XCTestCase {
    /// The amplitude of the tone at `hz` (a one-bin DFT over the whole signal).
    private func amplitude(_ x: [Float], at hz: Double, sampleRate: Double = 12_000) -> Double {
        var re = 0.0, im = 0.0
        for (n, v) in x.enumerated() {
            let a = 2 * Double.pi * hz * Double(n) / sampleRate
            re += Double(v) * cos(a)
            im -= Double(v) * sin(a)
        }
        return 2 * (re * re + im * im).squareRoot() / Double(x.count)
    }

    func testShaftFaultsShapeTheRunningSpeedTones() throws {
        func tones(_ fault: BearingSynth.Fault) throws -> [Double] {
            var s = BearingSynth.Settings(fault: fault)
            s.snrDB = nil
            s.rpm = 1800  // 30 Hz: whole periods in 1 s, no leakage
            let x = try BearingSynth.generate(s)
            return (1...3).map { amplitude(x, at: 30 * Double($0)) }
        }
        let healthy = try tones(.healthy), unbalance = try tones(.unbalance), misalignment = try tones(.misalignment)
        XCTAssertGreaterThan(unbalance[0], 10 * unbalance[1], "unbalance: a dominant 1×")
        XCTAssertGreaterThan(misalignment[1], 3 * misalignment[0], "misalignment: 2× above 1×")
        XCTAssertGreaterThan(misalignment[2], misalignment[0], "misalignment: 3× above 1×")
        XCTAssertGreaterThan(healthy[0], 2 * healthy[1], "healthy: 1× above 2×")
        XCTAssertLessThan(healthy[0], 4 * healthy[1], "healthy: not an unbalance")
    }

    func testInnerOuterCarriesBothImpactTrains() throws {
        var s = BearingSynth.Settings(fault: .innerOuter)
        s.snrDB = nil
        let spec = envelopeSpectrum(try BearingSynth.generate(s), sampleRate: 12_000, band: 1_500...4_500)
        let median = spec[5...600].sorted()[298]
        let f = BearingSynth.Bearing.skf6205.frequencies(shaftHz: 1797.0 / 60)
        for line in [f.bpfo, f.bpfi] {
            let k = Int(line.rounded())
            XCTAssertGreaterThan(spec[(k - 1)...(k + 1)].max()!, 10 * median, "line at \(line) Hz")
        }
    }

    func testBearingTableAndGeometry() throws {
        XCTAssertEqual(BearingSynth.Bearing.named("6205")?.balls, 9)
        XCTAssertEqual(BearingSynth.Bearing.named("nu205")?.balls, 13)
        let custom = try XCTUnwrap(BearingSynth.Bearing.named("n=9,d=7.94,D=39.04,angle=15"))
        XCTAssertEqual(custom.contactAngle, 15 * .pi / 180, accuracy: 1e-12)
        XCTAssertNil(BearingSynth.Bearing.named("n=9,d=7.94"), "D missing")
        XCTAssertNil(BearingSynth.Bearing.named("n=9,d=40,D=39"), "balls larger than the pitch circle")
        XCTAssertNil(BearingSynth.Bearing.named("6999"))
    }

    func testDatasetEntriesAreDeterministicAndWithinTheirRanges() {
        var o = BearingDataset.Options(perClass: 20)
        o.seed = 3
        o.rpm = 1_000...1_200
        o.snrDB = 0...5
        o.bearing = nil
        let a = BearingDataset.entries(o), b = BearingDataset.entries(o)
        XCTAssertEqual(a.count, 160)
        XCTAssertEqual(a.map(\.csvRow), b.map(\.csvRow), "same seed, same recordings")
        XCTAssertEqual(Set(a.map(\.label)), Set(BearingSynth.Fault.allCases.map(\.rawValue)))
        XCTAssertEqual(Set(a.map(\.path)).count, 160, "every recording has its own file")
        for e in a {
            XCTAssertTrue(o.rpm.contains(e.settings.rpm) && o.snrDB.contains(e.settings.snrDB ?? .nan), e.csvRow)
            XCTAssertTrue((2_000...4_500).contains(e.settings.resonance) && (0.03...0.08).contains(e.settings.damping), e.csvRow)
        }
        XCTAssertGreaterThan(Set(a.map(\.bearingName)).count, 1, "--bearing all draws from the table")
        o.seed = 4
        XCTAssertNotEqual(BearingDataset.entries(o).map(\.settings.seed), a.map(\.settings.seed), "another seed, other recordings")
    }
}
