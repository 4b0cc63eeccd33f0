/// CBAM attention over the spectrogram as a PNG (`qemlc explain`): the network's input map
/// (first channel) in grey with true hertz and seconds, then one panel per stage with that
/// stage's spatial attention laid over it as a heat map (dark red none … yellow full), and under
/// each panel the stage's channel attention as a strip of its channels (sorted, 0…1).
///
/// The overlay blends in the palette: 16 grey levels × 15 heat levels, so a panel is one index
/// per pixel like every other qemlc picture.
public enum AttentionImage {
    public struct Stage: Sendable {
        public var name: String
        /// Spatial attention upsampled to the map's size, 0…1, row 0 = lowest frequency.
        public var spatial: [Float]
        /// Channel attention per channel, 0…1.
        public var channels: [Float]

        public init(name: String, spatial: [Float], channels: [Float]) {
            self.name = name
            self.spatial = spatial
            self.channels = channels
        }
    }

    static let greys = 16, heats = 15

    /// `map`: rows × cols, row 0 = `fLow` Hz, row rows−1 = `fHigh`; columns span `seconds`.
    public static func png(map: [Float], rows: Int, cols: Int, fLow: Double, fHigh: Double, seconds: Double,
                           stages: [Stage], title: String) -> [UInt8] {
        let scale = 2, glyphH = BitmapFont.height * scale
        let panelW = 256, panelH = 256, left = 84, gap = 48, top = 34 + 2 * glyphH + 16, stripH = 14
        let panels = 1 + stages.count
        var c = Canvas(width: left + panels * (panelW + gap), height: top + panelH + 58 + stripH + 2 * glyphH + 24)
        c.text(title, x: 16, y: 12, scale: scale)
        let finite = map.filter(\.isFinite)
        let lo = finite.min() ?? 0, span = max((finite.max() ?? 1) - lo, 1e-12)
        func grey(_ r: Int, _ col: Int) -> Int { Int(max(0, min(Float(greys - 1), (map[r * cols + col] - lo) / span * Float(greys - 1))).rounded()) }

        for p in 0..<panels {
            let x0 = left + p * (panelW + gap)
            let stage = p == 0 ? nil : stages[p - 1]
            for py in 0..<panelH {
                let r = (panelH - 1 - py) * rows / panelH
                for px in 0..<panelW {
                    let col = px * cols / panelW
                    let g = grey(r, col)
                    if let stage {
                        let a = stage.spatial[r * cols + col]
                        let h = Int(max(0, min(Float(heats - 1), a * Float(heats - 1))).rounded())
                        c[x0 + px, top + py] = UInt8(g * heats + h)
                    } else {
                        c[x0 + px, top + py] = UInt8(g * heats)  // heat 0 is plain grey
                    }
                }
            }
            c.rect(x: x0 - 1, y: top - 1, w: panelW + 2, h: panelH + 2)
            c.text(stage.map { "\($0.name) attention" } ?? "input, channel 0", x: x0, y: top - glyphH - 8, scale: scale)
            c.bottomAxis(upTo: seconds, y: top + panelH, right: x0 + panelW, unit: "s", scale: scale, ticks: 4,
                         at: { x0 + Int(($0 / seconds * Double(panelW)).rounded()) }, label: SpectrogramImage.decimalLabel)
            if let stage, !stage.channels.isEmpty {
                let sy = top + panelH + 58
                let sorted = stage.channels.sorted(by: >)
                for px in 0..<panelW {
                    let v = sorted[px * sorted.count / panelW]
                    for dy in 0..<stripH { c[x0 + px, sy + dy] = UInt8(greys / 2 * heats + Int((max(0, min(1, v)) * Float(heats - 1)).rounded())) }
                }
                c.rect(x: x0 - 1, y: sy - 1, w: panelW + 2, h: stripH + 2)
                let mean = stage.channels.reduce(0, +) / Float(stage.channels.count)
                let text = "channels (\(stage.channels.count)): mean \(SpectrogramImage.decimalLabel(Double(mean), step: 0.01))"
                c.text(text, x: x0, y: sy + stripH + 6, scale: scale)
            }
        }
        // Frequency axis on the left of the first panel.
        let fStep = SpectrogramImage.niceStep(max(fHigh - fLow, 1), target: 5)
        var f = (fLow / fStep).rounded(.up) * fStep
        while f <= fHigh + 1e-9 {
            let y = top + panelH - 1 - Int(((f - fLow) / max(fHigh - fLow, 1e-9) * Double(panelH - 1)).rounded())
            c.hline(x: left - 7, y: y, w: 6)
            let label = SpectrogramImage.hertzLabel(f, step: fStep)
            c.text(label, x: left - 10 - BitmapFont.measure(label, scale: scale), y: y - glyphH / 2, scale: scale)
            f += fStep
        }
        c.text("Hz", x: left - 10 - BitmapFont.measure("Hz", scale: scale), y: top - 2 * glyphH - 12, scale: scale)
        return PNGEncoder.encode(width: c.width, height: c.height, palette: palette, pixels: c.pixels)
    }

    /// grey g (0…15) blended with heat h (0…14) at index g·15 + h, then white and black where
    /// Canvas draws its frames and text.
    static let palette: [(UInt8, UInt8, UInt8)] = {
        var p: [(UInt8, UInt8, UInt8)] = []
        for g in 0..<greys {
            let grey = 30 + Double(g) / Double(greys - 1) * 200
            for h in 0..<heats {
                let a = Double(h) / Double(heats - 1)
                // heat: dark red → red → yellow
                let heat = (r: min(255, 90 + 330 * a), g: max(0, 510 * a - 255), b: 0.0)
                let alpha = 0.75 * a
                func mix(_ x: Double) -> UInt8 { UInt8(max(0, min(255, (1 - alpha) * grey + alpha * x)).rounded()) }
                p.append((mix(heat.r), mix(heat.g), mix(heat.b)))
            }
        }
        while p.count < Int(Canvas.white) { p.append((255, 255, 255)) }
        p.append((255, 255, 255))  // Canvas.white
        p.append((0, 0, 0))        // Canvas.black
        return p
    }()
}
