/// A confusion matrix as a PNG (`qemlc eval --plot`): true classes down the left, predicted
/// classes across (numbered, named in the row labels), each cell coloured by the share of its
/// true class (viridis: dark none, yellow all) and labelled with its count.
public enum ConfusionMatrixImage {
    public static func png(labels: [String], confusion: [[Int]], title: String) -> [UInt8] {
        let k = labels.count
        let scale = 2, glyphW = (BitmapFont.width + 1) * scale, glyphH = BitmapFont.height * scale
        let cell = max(44, (String(confusion.flatMap { $0 }.max() ?? 0).count + 1) * glyphW)
        let rowLabels = labels.enumerated().map { "\($0.offset + 1) \($0.element)" }
        let left = 16 + (rowLabels.map { $0.count }.max() ?? 0) * glyphW + 12
        let top = 24 + glyphH + 40 + glyphH + 10
        let width = max(left + k * cell + 24, 32 + title.count * glyphW), height = top + k * cell + 40 + glyphH
        var c = Canvas(width: width, height: height)
        c.text(title, x: 16, y: 16, scale: scale)
        c.text("predicted", x: left + (k * cell - 9 * glyphW) / 2, y: 24 + glyphH + 12, scale: scale)
        for j in 0..<k {
            let s = String(j + 1)
            c.text(s, x: left + j * cell + (cell - s.count * glyphW) / 2, y: top - glyphH - 8, scale: scale)
        }
        for (i, row) in confusion.enumerated() {
            let total = max(1, row.reduce(0, +))
            c.text(rowLabels[i], x: 16, y: top + i * cell + (cell - glyphH) / 2, scale: scale)
            for (j, n) in row.enumerated() {
                let share = Float(n) / Float(total)
                let colour = SpectrogramImage.colour(share)
                for y in 0..<cell { for x in 0..<cell { c[left + j * cell + x, top + i * cell + y] = colour } }
                let s = String(n)
                c.text(s, x: left + j * cell + (cell - s.count * glyphW) / 2 + 1, y: top + i * cell + (cell - glyphH) / 2,
                       scale: scale, colour: share > 0.5 ? Canvas.black : Canvas.white)
            }
        }
        c.rect(x: left - 1, y: top - 1, w: k * cell + 2, h: k * cell + 2)
        c.text("rows: true class, colour: share of the row", x: 16, y: top + k * cell + 20, scale: scale)
        return PNGEncoder.encode(width: c.width, height: c.height, palette: Canvas.palette, pixels: c.pixels)
    }
}
