/// The per-layer table of `qemlc check`: op, output shape, parameters and FLOPs per sample,
/// all read from the op declarations.
public struct LayerReport: Sendable {
    public struct Row: Sendable, Equatable {
        /// The first result's name.
        public var name: String
        public var op: String
        public var outputs: [TensorType]
        /// Elements of the weights this node is the first to use (shared weights count once).
        public var parameters: Int
        /// FLOPs per sample (a multiply-add counts 2), from the op's declaration.
        public var flops: Int
    }
    public var rows: [Row]
    public var totalParameters: Int { rows.reduce(0) { Self.saturatingAdd($0, $1.parameters) } }
    public var totalFlops: Int { rows.reduce(0) { Self.saturatingAdd($0, $1.flops) } }

    static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? Int.max : s
    }

    public init(_ g: Graph) {
        var seen: Set<ValueID> = []
        rows = g.nodes.map { n in
            var params = 0
            for case let v? in n.operands where g[v].isWeight && !seen.contains(v) {
                seen.insert(v)
                params += g.type(of: v).elementsPerSample
            }
            var flops = 0
            if let decl = OpRegistry.decl(n.op) {
                let ctx = ShapeContext(attributes: n.attributes, operands: n.operands.map { $0.map { g.type(of: $0) } },
                                       isWeight: n.operands.map { $0.map { g[$0].isWeight } ?? false })
                flops = decl.flops(ctx, n.results.map { g.type(of: $0) })
            }
            return Row(name: n.results.first.map { g[$0].name } ?? "", op: n.op, outputs: n.results.map { g.type(of: $0) },
                       parameters: params, flops: flops)
        }
    }

    /// A plain-text table with totals.
    public var table: String {
        let header = ["name", "op", "output", "params", "FLOPs"]
        var cells = rows.map { [$0.name, $0.op, $0.outputs.map(\.description).joined(separator: ", "), String($0.parameters), String($0.flops)] }
        cells.append(["total", "", "", String(totalParameters), String(totalFlops)])
        var widths = header.map(\.count)
        for r in cells { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i >= 3 ? pad + c : c + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = line(header) + "\n"
        for (k, r) in cells.enumerated() {
            if k == cells.count - 1 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
            out += line(r) + "\n"
        }
        return out
    }
}

extension QIR {
    /// The per-layer report for `qemlc check`.
    public static func report(_ g: Graph) -> LayerReport { LayerReport(g) }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
