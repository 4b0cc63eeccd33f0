import Foundation
import QEMLTensor

/// A monitoring timeline as a PNG (`qemlc run --stream --plot`): the recording's spectrogram
/// strip over time (true hertz and seconds), each class's probability as a curve (one colour
/// per class, legend on the right), and the top class of every window as a coloured band.
public enum TimelineImage {
    /// `spectrogram`: [rows, frames] of the whole recording, row 0 at FFT bin `firstBin`;
    /// `times`: each window's end in seconds; `probabilities`: one row per window.
    public static func png(spectrogram: Tensor, sampleRate: Int, hop: Int, nFFT: Int, firstBin: Int = 0,
                           duration: Double, times: [Double], probabilities: [[Float]], labels: [String]) throws -> [UInt8] {
        guard spectrogram.rank == 2, spectrogram.count > 0, duration > 0, times.count == probabilities.count else {
            throw SignalError("a timeline needs a [bins, frames] spectrogram, a duration and one probability row per window")
        }
        let rows = spectrogram.shape[0], frames = spectrogram.shape[1]
        let scale = 2, glyphH = BitmapFont.height * scale
        let left = 84, top = 34, plotW = 960, specH = 180, gap = 26, probH = 200, bandH = 22
        let legendW = 60 + (labels.map(\.count).max() ?? 0) * (BitmapFont.width + 1) * scale
        var c = Canvas(width: left + plotW + 24 + legendW, height: top + specH + gap + probH + gap + bandH + 60)
        let xOf = { (t: Double) -> Int in left + Int((t / duration * Double(plotW)).rounded()) }

        // The spectrogram strip (dB-like values as given), nearest cell, row 0 at the bottom.
        let finite = spectrogram.data.filter(\.isFinite)
        let lo = finite.min() ?? 0, span = max((finite.max() ?? 1) - lo, 1e-12)
        for py in 0..<specH {
            let r = (specH - 1 - py) * rows / specH
            for px in 0..<plotW {
                let f = min(frames - 1, Int(Double(px) / Double(plotW) * duration * Double(sampleRate) / Double(hop)))
                let v = spectrogram.data[r * frames + f]
                c[left + px, top + py] = v.isFinite ? SpectrogramImage.colour((v - lo) / span) : Canvas.black
            }
        }
        c.rect(x: left - 1, y: top - 1, w: plotW + 2, h: specH + 2)
        let fLo = Double(firstBin) * Double(sampleRate) / Double(nFFT), fHi = Double(firstBin + rows - 1) * Double(sampleRate) / Double(nFFT)
        let fStep = SpectrogramImage.niceStep(max(fHi - fLo, 1), target: 4)
        var f = (fLo / fStep).rounded(.up) * fStep
        while f <= fHi + 1e-9 {
            let y = top + specH - 1 - Int(((f - fLo) / max(fHi - fLo, 1) * Double(specH - 1)).rounded())
            c.hline(x: left - 7, y: y, w: 6)
            let label = SpectrogramImage.hertzLabel(f, step: fStep)
            c.text(label, x: left - 10 - BitmapFont.measure(label, scale: scale), y: y - glyphH / 2, scale: scale)
            f += fStep
        }
        c.text("Hz", x: left - 10 - BitmapFont.measure("Hz", scale: scale), y: top - glyphH - 10, scale: scale)

        // Probability curves, 0 at the bottom, 1 at the top.
        let pTop = top + specH + gap
        c.rect(x: left - 1, y: pTop - 1, w: plotW + 2, h: probH + 2)
        for v in [0.0, 0.5, 1.0] {
            let y = pTop + probH - 1 - Int((v * Double(probH - 1)).rounded())
            c.hline(x: left - 7, y: y, w: 6)
            let label = SpectrogramImage.decimalLabel(v, step: 0.5)
            c.text(label, x: left - 10 - BitmapFont.measure(label, scale: scale), y: y - glyphH / 2, scale: scale)
        }
        func yOf(_ p: Float) -> Int { pTop + probH - 1 - Int((Double(max(0, min(1, p))) * Double(probH - 1)).rounded()) }
        for k in labels.indices {
            var previous: (Int, Int)?
            for (t, row) in zip(times, probabilities) where k < row.count {
                let point = (xOf(t) - 1, yOf(row[k]))
                if let previous { c.line(from: previous, to: point, colour: Canvas.classColour(k)) } else { c[point.0, point.1] = Canvas.classColour(k) }
                previous = point
            }
        }

        // The top class per window: a band from the window's end to the next one's.
        let bTop = pTop + probH + gap
        for (i, (t, row)) in zip(times, probabilities).enumerated() {
            guard let k = row.indices.max(by: { row[$0] < row[$1] || row[$0].isNaN }) else { continue }
            let x0 = xOf(i == 0 ? 0 : times[i - 1]), x1 = xOf(t)
            for x in x0..<max(x0 + 1, x1) { for y in 0..<bandH { c[x, bTop + y] = Canvas.classColour(k) } }
        }
        c.rect(x: left - 1, y: bTop - 1, w: plotW + 2, h: bandH + 2)
        c.text("top", x: left - 10 - BitmapFont.measure("top", scale: scale), y: bTop + (bandH - glyphH) / 2, scale: scale)

        // Time axis under the band.
        c.bottomAxis(upTo: duration, y: bTop + bandH, right: left + plotW, unit: "s", scale: scale, at: xOf, label: SpectrogramImage.decimalLabel)

        // Legend.
        for (k, label) in labels.enumerated() {
            let y = pTop + k * (glyphH + 8)
            for dy in 0..<glyphH { for dx in 0..<14 { c[left + plotW + 24 + dx, y + dy] = Canvas.classColour(k) } }
            c.text(label, x: left + plotW + 44, y: y, scale: scale)
        }
        return PNGEncoder.encode(width: c.width, height: c.height, palette: Canvas.palette, pixels: c.pixels)
    }
}
