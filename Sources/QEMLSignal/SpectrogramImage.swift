import Foundation
import QEMLTensor

/// A spectrogram as a PNG a person can read: viridis colours (low values dark blue, high
/// yellow), frequency up the left axis (Hz, row 0 at the bottom), time along the bottom (s,
/// frame t centred at t·hop samples, as with centred STFTs), a colour bar with its scale.
public enum SpectrogramImage {
    /// `spec`: [bins, frames] or [1, 1, bins, frames], rows = frequency as the front end writes
    /// them. `melRange` (fmin…fmax Hz) labels mel rows by their centre frequencies. `unit`
    /// titles the colour bar (e.g. "dB"). Linear rows start at FFT bin `firstBin`.
    ///
    /// `source` is the map's size before a front end's `resize` (bins or mel bands, frames): the
    /// axes then follow the bilinear resize (output row i samples source row (i + 0.5)·in/out − 0.5),
    /// so a resized network input still shows true hertz and seconds.
    public static func png(_ spec: Tensor, sampleRate: Int, hop: Int, nFFT: Int,
                           melRange: ClosedRange<Double>? = nil, firstBin: Int = 0, unit: String = "",
                           source: (bins: Int, frames: Int)? = nil) throws -> [UInt8] {
        guard spec.rank >= 2, spec.shape.dropLast(2).allSatisfy({ $0 == 1 }), spec.count > 0 else {
            throw SignalError("a spectrogram picture needs a [bins, frames] map, not \(describeShape(spec.shape))")
        }
        guard sampleRate > 0, hop > 0, nFFT > 0 else {
            throw SignalError("sample rate, hop and n_fft must be positive for the picture's axes")
        }
        let bins = spec.shape[spec.rank - 2], frames = spec.shape[spec.rank - 1]
        let finite = spec.data.filter { $0.isFinite }
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        let span = hi > lo ? hi - lo : 1

        let scale = 2, glyphH = BitmapFont.height * scale
        let plotW = min(960, max(480, frames)), plotH = min(512, max(256, bins))
        let left = 84, top = 34, bottom = 58, barGap = 24, barW = 18, right = 96
        var c = Canvas(width: left + plotW + barGap + barW + right, height: top + plotH + bottom)

        // The map: nearest cell, row 0 at the bottom.
        for py in 0..<plotH {
            let r = (plotH - 1 - py) * bins / plotH
            for px in 0..<plotW {
                let v = spec.data[r * frames + px * frames / plotW]
                c[left + px, top + py] = v.isFinite ? colour((v - lo) / span) : Canvas.black
            }
        }
        c.rect(x: left - 1, y: top - 1, w: plotW + 2, h: plotH + 2)

        // Frequency axis.
        let nyquist = Double(sampleRate) / 2
        let srcBins = source?.bins ?? bins, srcFrames = source?.frames ?? frames
        let sourceRowOf: (Double) -> Double
        if let melRange {
            let m0 = MelFilterBank.hzToMel(melRange.lowerBound), m1 = MelFilterBank.hzToMel(melRange.upperBound)
            sourceRowOf = { (MelFilterBank.hzToMel($0) - m0) / (m1 - m0) * Double(srcBins + 1) - 1 }
        } else {
            sourceRowOf = { $0 * Double(nFFT) / Double(sampleRate) - Double(firstBin) }
        }
        let rowOf: (Double) -> Double = { (sourceRowOf($0) + 0.5) * Double(bins) / Double(srcBins) - 0.5 }
        let fTop = melRange?.upperBound ?? min(nyquist, Double(firstBin + srcBins - 1) * Double(sampleRate) / Double(nFFT))
        let fStep = niceStep(fTop, target: 6)
        var f = 0.0
        while f <= fTop + 1e-9 {
            let row = rowOf(f)
            if row >= -0.5, row <= Double(bins) - 0.5 {
                let y = top + plotH - 1 - Int(((row + 0.5) * Double(plotH) / Double(bins)).rounded(.down))
                c.hline(x: left - 7, y: y, w: 6)
                let label = hertzLabel(f, step: fStep)
                c.text(label, x: left - 10 - BitmapFont.measure(label, scale: scale), y: y - glyphH / 2, scale: scale)
            }
            f += fStep
        }
        c.text("Hz", x: left - 10 - BitmapFont.measure("Hz", scale: scale), y: top - glyphH - 10, scale: scale)

        // Time axis: frame t at t·hop/sampleRate seconds.
        let seconds = Double(srcFrames - 1) * Double(hop) / Double(sampleRate)
        let tStep = niceStep(max(seconds, 1e-6), target: 7)
        var t = 0.0
        while t <= seconds + 1e-9 {
            let col = (t * Double(sampleRate) / Double(hop) + 0.5) * Double(frames) / Double(srcFrames) - 0.5
            let x = left + Int(((col + 0.5) * Double(plotW) / Double(frames)).rounded(.down))
            c.vline(x: x, y: top + plotH + 1, h: 6)
            let label = decimalLabel(t, step: tStep)
            c.text(label, x: x - BitmapFont.measure(label, scale: scale) / 2, y: top + plotH + 12, scale: scale)
            t += tStep
        }
        c.text("s", x: left + plotW - BitmapFont.measure("s", scale: scale), y: top + plotH + 14 + glyphH + 6, scale: scale)

        // Colour bar.
        let barX = left + plotW + barGap
        for py in 0..<plotH {
            let u = Float(plotH - 1 - py) / Float(max(plotH - 1, 1))
            for px in 0..<barW { c[barX + px, top + py] = colour(u) }
        }
        c.rect(x: barX - 1, y: top - 1, w: barW + 2, h: plotH + 2)
        let vStep = niceStep(Double(span), target: 6)
        var v = (Double(lo) / vStep).rounded(.up) * vStep
        while v <= Double(hi) + vStep * 1e-6 {
            let y = top + plotH - 1 - Int(((v - Double(lo)) / Double(span) * Double(plotH - 1)).rounded())
            c.hline(x: barX + barW + 1, y: y, w: 5)
            c.text(decimalLabel(v, step: vStep), x: barX + barW + 10, y: y - glyphH / 2, scale: scale)
            v += vStep
        }
        // The unit title, right-aligned to the picture's edge if it is wider than the bar's column.
        if !unit.isEmpty { c.text(unit, x: min(barX, c.width - 4 - BitmapFont.measure(unit, scale: scale)), y: top - glyphH - 10, scale: scale) }

        return PNGEncoder.encode(width: c.width, height: c.height, palette: Canvas.palette, pixels: c.pixels)
    }

    /// Palette index for u in [0, 1].
    static func colour(_ u: Float) -> UInt8 {
        UInt8(max(0, min(Float(Canvas.levels - 1), (u * Float(Canvas.levels - 1)).rounded())))
    }

    /// 1, 2 or 5 × 10^k, giving about `target` steps over `range`.
    static func niceStep(_ range: Double, target: Int) -> Double {
        let raw = range / Double(target)
        let mag = pow(10, (log10(raw)).rounded(.down))
        for m in [1.0, 2, 5, 10] where m * mag >= raw { return m * mag }
        return 10 * mag
    }

    /// "250", "1k", "2.5k".
    static func hertzLabel(_ f: Double, step: Double) -> String {
        if f >= 1000 && step >= 100 { return decimalLabel(f / 1000, step: step / 1000) + "k" }
        return decimalLabel(f, step: step)
    }

    /// As many decimals as the step needs.
    static func decimalLabel(_ v: Double, step: Double) -> String {
        let decimals = step >= 1 ? 0 : Int((-log10(step)).rounded(.up))
        let s = String(format: "%.\(decimals)f", v)
        return s == "-0" || s.hasPrefix("-0.") && Double(s) == 0 ? String(s.dropFirst()) : s
    }
}

/// Palette pixels: the colour map's levels, then white, black.
struct Canvas {
    /// 244 viridis levels, 10 categorical colours (matplotlib's tab10, for classes), white, black.
    static let levels = 244
    static let categorical: [(UInt8, UInt8, UInt8)] = [0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F,
                                                       0xBCBD22, 0x17BECF].map { (UInt8($0 >> 16), UInt8(($0 >> 8) & 0xFF), UInt8($0 & 0xFF)) }
    static let white = UInt8(levels + categorical.count), black = UInt8(levels + categorical.count + 1)
    static let palette: [(UInt8, UInt8, UInt8)] = (0..<levels).map { viridis(Double($0) / Double(levels - 1)) }
        + categorical + [(255, 255, 255), (0, 0, 0)]

    /// The palette index of class `k`'s colour (they repeat after ten).
    static func classColour(_ k: Int) -> UInt8 { UInt8(levels + k % categorical.count) }

    let width: Int, height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: Canvas.white, count: width * height)
    }

    subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { if x >= 0, y >= 0, x < width, y < height { pixels[y * width + x] = newValue } }
    }

    mutating func hline(x: Int, y: Int, w: Int) { for i in 0..<w { self[x + i, y] = Canvas.black } }
    mutating func vline(x: Int, y: Int, h: Int) { for i in 0..<h { self[x, y + i] = Canvas.black } }
    mutating func rect(x: Int, y: Int, w: Int, h: Int) {
        hline(x: x, y: y, w: w); hline(x: x, y: y + h - 1, w: w)
        vline(x: x, y: y, h: h); vline(x: x + w - 1, y: y, h: h)
    }

    mutating func text(_ s: String, x: Int, y: Int, scale: Int, colour: UInt8 = Canvas.black) {
        for (i, ch) in s.enumerated() {
            guard let rows = BitmapFont.glyphs[ch] else { continue }
            let gx = x + i * (BitmapFont.width + 1) * scale
            for (ry, bits) in rows.enumerated() {
                for rx in 0..<BitmapFont.width where bits & (1 << (BitmapFont.width - 1 - rx)) != 0 {
                    for dy in 0..<scale { for dx in 0..<scale { self[gx + rx * scale + dx, y + ry * scale + dy] = colour } }
                }
            }
        }
    }

    /// Matplotlib's viridis, from 20 evenly spaced stops (R's `viridis(20)`), linearly interpolated.
    static func viridis(_ u: Double) -> (UInt8, UInt8, UInt8) {
        let stops: [UInt32] = [0x440154, 0x481568, 0x482677, 0x453781, 0x3F4788, 0x39558C, 0x32648E, 0x2D718E, 0x287D8E, 0x238A8D,
                               0x1F968B, 0x20A386, 0x29AF7F, 0x3CBC75, 0x56C667, 0x75D054, 0x95D840, 0xB8DE29, 0xDCE318, 0xFDE725]
        let p = max(0, min(1, u)) * Double(stops.count - 1)
        let i = min(Int(p), stops.count - 2), w = p - Double(i)
        func ch(_ c: UInt32, _ shift: UInt32) -> Double { Double((c >> shift) & 0xFF) }
        func mix(_ shift: UInt32) -> UInt8 { UInt8((ch(stops[i], shift) * (1 - w) + ch(stops[i + 1], shift) * w).rounded()) }
        return (mix(16), mix(8), mix(0))
    }
}
