import Foundation
import QEMLTensor

/// Bearing geometry by name (`6205`, `6203`: the CWRU rig's drive-end and fan-end bearings) or
/// as `n=9,d=7.94,D=39.04,angle=0` (balls, ball and pitch diameters in any one unit, contact
/// angle in degrees).
public struct BearingGeometry: Sendable, Equatable {
    public var name: String
    public var balls: Int
    public var ballDiameter: Double
    public var pitchDiameter: Double
    public var contactAngleDegrees: Double

    public static let known: [BearingGeometry] = [
        BearingGeometry(name: "6205", balls: 9, ballDiameter: 7.94, pitchDiameter: 39.04, contactAngleDegrees: 0),
        BearingGeometry(name: "6203", balls: 8, ballDiameter: 6.746, pitchDiameter: 28.50, contactAngleDegrees: 0),
    ]

    public static func parse(_ text: String) throws -> BearingGeometry {
        if let b = known.first(where: { $0.name == text }) { return b }
        let usage = "give a known bearing (\(known.map(\.name).joined(separator: ", "))) or its geometry as \"n=9,d=7.94,D=39.04,angle=0\""
        guard text.contains("=") else { throw SignalError("unknown bearing '\(text)'", fix: usage) }
        var fields: [String: Double] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, ["n", "d", "D", "angle"].contains(kv[0]), let v = Double(kv[1]), v.isFinite else {
                throw SignalError("bearing '\(text)': cannot read '\(part)'", fix: usage)
            }
            fields[kv[0]] = v
        }
        guard let n = fields["n"], let d = fields["d"], let D = fields["D"] else {
            throw SignalError("bearing '\(text)': n, d and D are needed", fix: usage)
        }
        let angle = fields["angle"] ?? 0
        guard n >= 3, n <= 100, n == n.rounded() else { throw SignalError("bearing '\(text)': n = \(n) balls must be a whole number from 3 to 100") }
        guard d > 0, D > d else { throw SignalError("bearing '\(text)': needs 0 < d < D (ball diameter below pitch diameter)") }
        guard angle >= 0, angle < 90 else { throw SignalError("bearing '\(text)': angle = \(angle) must be in [0, 90) degrees") }
        return BearingGeometry(name: text, balls: Int(n), ballDiameter: d, pitchDiameter: D, contactAngleDegrees: angle)
    }

    public var bearing: BearingSynth.Bearing {
        BearingSynth.Bearing(balls: balls, ballDiameter: ballDiameter, pitchDiameter: pitchDiameter,
                             contactAngle: contactAngleDegrees * .pi / 180)
    }
}

/// The envelope spectrum of a recording and the bearing's characteristic lines in it: what a
/// vibration analyst reads first. Band-pass (ideal, by FFT bins), Hilbert envelope, magnitude
/// of its FFT (`envelopeSpectrum`); with a shaft speed, the 1× shaft, BPFO, BPFI, BSF and FTF
/// lines and their harmonics, each scored by the spectrum's peak near it over the median
/// (the noise floor) — the family with the highest mean score over its harmonics is the
/// strongest match.
public struct EnvelopeAnalysis: Sendable {
    public struct Family: Sendable {
        public var name: String       // "1×", "BPFO", …
        public var hz: Double
        /// Peak / median for harmonics 1…`harmonics`, 0 for harmonics above the plotted range.
        public var scores: [Double]
        public var score: Double { scores.isEmpty ? 0 : scores.reduce(0, +) / Double(scores.count) }
    }

    public let sampleRate: Int
    public let band: ClosedRange<Double>?
    public let spectrum: [Float]
    public let binHz: Double
    public let families: [Family]
    public static let harmonics = 3

    public init(_ x: [Float], sampleRate: Int, band: ClosedRange<Double>?, shaftHz: Double?, bearing: BearingGeometry) throws {
        guard sampleRate > 0 else { throw SignalError("the sample rate must be positive") }
        guard x.count >= 16 else { throw SignalError("the signal has \(x.count) samples; the envelope spectrum needs at least 16") }
        if let band, !(band.lowerBound >= 0 && band.upperBound <= Double(sampleRate) / 2 && band.lowerBound < band.upperBound) {
            throw SignalError("--band \(band.lowerBound):\(band.upperBound) must lie within 0…\(sampleRate / 2) Hz (the Nyquist frequency) with LO < HI")
        }
        self.sampleRate = sampleRate
        self.band = band
        let spectrum = envelopeSpectrum(x, sampleRate: sampleRate, band: band)
        let binHz = Double(sampleRate) / Double(x.count)
        self.spectrum = spectrum
        self.binHz = binHz
        guard let shaftHz else { families = []; return }
        let f = bearing.bearing.frequencies(shaftHz: shaftHz)
        let lines = [("1×", f.shaft), ("BPFO", f.bpfo), ("BPFI", f.bpfi), ("BSF", f.bsf), ("FTF", f.ftf)]
        let floor = Double(Self.median(Array(spectrum.dropFirst())))
        families = lines.map { name, hz in
            let scores = (1...Self.harmonics).map { h -> Double in
                let target = hz * Double(h)
                guard target < Double(sampleRate) / 2 else { return 0 }
                // ±1 % of the frequency or ±1 bin, whichever is wider (slip moves the lines).
                let half = max(1, Int((0.01 * target / binHz).rounded(.up)))
                let k = Int((target / binHz).rounded())
                let lo = max(1, k - half), hi = min(spectrum.count - 1, k + half)
                guard lo <= hi else { return 0 }
                let peak = Double(spectrum[lo...hi].max() ?? 0)
                return floor > 0 ? peak / floor : 0
            }
            return Family(name: name, hz: hz, scores: scores)
        }
    }

    /// The family whose lines stand highest above the floor, or nil without a shaft speed.
    public var strongest: Family? { families.max { $0.score < $1.score } }

    static func median(_ v: [Float]) -> Float {
        let s = v.filter { $0.isFinite }.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }

    /// [2, bins]: row 0 the frequency of each bin in Hz, row 1 the envelope spectrum.
    public var tensor: Tensor {
        Tensor(shape: [2, spectrum.count], data: spectrum.indices.map { Float(Double($0) * binHz) } + spectrum)
    }

    /// A line plot with true axes (Hz, amplitude) from 0 to `maxHz`, the characteristic lines
    /// drawn as dashed verticals (fundamental labelled, harmonics numbered) and the strongest
    /// match named in the title.
    public func png(maxHz requested: Double? = nil) -> [UInt8] {
        let nyquist = Double(sampleRate) / 2
        let highest = families.map(\.hz).max().map { $0 * Double(Self.harmonics) * 1.1 }
        let maxHz = min(nyquist, requested ?? highest ?? min(nyquist, 1000))
        let lastBin = max(2, min(spectrum.count - 1, Int(maxHz / binHz)))
        let shown = spectrum[1...lastBin]   // bin 0 (the mean) would flatten everything else
        let yMax = Double(shown.filter { $0.isFinite }.max() ?? 1) * 1.08
        let span = yMax > 0 ? yMax : 1

        let scale = 2, glyphH = BitmapFont.height * scale
        let plotW = 900, plotH = 420
        let left = 96, top = 40 + 3 * (glyphH + 6), bottom = 60, right = 24
        var c = Canvas(width: left + plotW + right, height: top + plotH + bottom)
        func x(_ hz: Double) -> Int { left + Int((hz / maxHz * Double(plotW - 1)).rounded()) }
        func y(_ v: Double) -> Int { top + plotH - 1 - Int((min(v, span) / span * Double(plotH - 1)).rounded()) }

        // Characteristic lines first, so the spectrum draws over them.
        let colours: [UInt8] = [Canvas.black, 0, 70, 140, 200]
        let rows = 3
        var labelRow = [Int](repeating: -1_000, count: rows)
        // Fundamentals first, so their names get the best rows; harmonics are numbered in the family's colour.
        for h in 1...Self.harmonics {
            for (i, fam) in families.enumerated() {
                let colour = colours[i % colours.count]
                let hz = fam.hz * Double(h)
                guard hz <= maxHz else { continue }
                let px = x(hz)
                for py in stride(from: top, to: top + plotH, by: 6) {
                    for dy in 0..<3 { c[px, py + dy] = colour }
                }
                let label = h == 1 ? fam.name : "\(h)×"
                let w = BitmapFont.measure(label, scale: scale)
                guard let row = labelRow.firstIndex(where: { $0 < px - w / 2 - 4 }) else { continue }  // no room: the line alone
                labelRow[row] = px + w / 2
                c.text(label, x: px - w / 2, y: top - (rows - row) * (glyphH + 6), scale: scale, colour: colour)
            }
        }
        // The spectrum as a polyline.
        var previous: (Int, Int)?
        for k in shown.indices {
            let p = (x(Double(k) * binHz), y(Double(spectrum[k])))
            if let q = previous { c.line(from: q, to: p) }
            previous = p
        }
        c.rect(x: left - 1, y: top - 1, w: plotW + 2, h: plotH + 2)

        // Axes.
        c.bottomAxis(upTo: maxHz, y: top + plotH, right: left + plotW, unit: "Hz", scale: scale, at: x, label: SpectrogramImage.hertzLabel)
        let vStep = SpectrogramImage.niceStep(span, target: 6)
        var v = 0.0
        while v <= span + vStep * 1e-6 {
            let py = y(v)
            c.hline(x: left - 7, y: py, w: 6)
            let label = SpectrogramImage.decimalLabel(v, step: vStep)
            c.text(label, x: left - 10 - BitmapFont.measure(label, scale: scale), y: py - glyphH / 2, scale: scale)
            v += vStep
        }
        var title = "envelope spectrum" + (band.map { ", band \(Int($0.lowerBound))-\(Int($0.upperBound)) Hz" } ?? "")
        if let s = strongest { title += ", strongest: \(s.name) " + String(format: "%.1f Hz", s.hz) }
        c.text(title, x: left, y: 8, scale: scale)
        return PNGEncoder.encode(width: c.width, height: c.height, palette: Canvas.palette, pixels: c.pixels)
    }
}

extension Canvas {
    /// Ticks and labels from 0 to `max` under a plot whose bottom edge is `y` (about `ticks` nice
    /// steps), and the unit at the right end, `right`; `at` places a value on x.
    mutating func bottomAxis(upTo max: Double, y: Int, right: Int, unit: String, scale: Int, ticks: Int = 8, at: (Double) -> Int,
                             label: (Double, Double) -> String) {
        let step = SpectrogramImage.niceStep(max, target: ticks)
        var v = 0.0
        while v <= max + 1e-9 {
            let x = at(v)
            vline(x: x, y: y + 1, h: 6)
            let text = label(v, step)
            self.text(text, x: x - BitmapFont.measure(text, scale: scale) / 2, y: y + 12, scale: scale)
            v += step
        }
        self.text(unit, x: right - BitmapFont.measure(unit, scale: scale), y: y + 14 + BitmapFont.height * scale + 6, scale: scale)
    }

    /// Bresenham.
    mutating func line(from a: (Int, Int), to b: (Int, Int), colour: UInt8 = Canvas.black) {
        var (x0, y0) = a
        let (x1, y1) = b
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            self[x0, y0] = colour
            if x0 == x1 && y0 == y1 { return }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x0 += sx }
            if e2 <= dx { err += dx; y0 += sy }
        }
    }
}
