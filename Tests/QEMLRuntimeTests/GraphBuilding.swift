import TestSupport
import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// Builds a one-node graph around `op` and runs it: the way most kernel tests are written.
/// Operand entries: a tensor given as an input ("x0", "x1", …) or as a weight ("w<slot>").
enum Operand {
    case input(Tensor)
    case weight(Tensor)
    case absent
}

func runOp(_ op: String, _ operands: [Operand], _ attributes: [(String, Attribute)] = [],
           resultTypes: [[Int]]? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [Tensor] {
    var g = Graph(name: "test")
    var ids: [ValueID?] = []
    var feeds: [String: Tensor] = [:]
    for (i, o) in operands.enumerated() {
        switch o {
        case .input(let t):
            ids.append(g.addInput("x\(i)", TensorType(fixed: t.shape)))
            feeds["x\(i)"] = t
        case .weight(let t): ids.append(g.weight("w\(i)", TensorType(fixed: t.shape)))
        case .absent: ids.append(nil)
        }
    }
    // One slot per declared operand and declared defaults filled in, as the parser does.
    if let decl = OpRegistry.decl(op), !decl.isVariadic { while ids.count < decl.operands.count { ids.append(nil) } }
    var attrs = Attributes(attributes)
    for a in OpRegistry.decl(op)?.attributes ?? [] where attrs[a.name] == nil { attrs[a.name] = a.defaultValue }
    // Result types from the op's own shape rule, unless given.
    var types: [TensorType]
    if let resultTypes {
        types = resultTypes.map { TensorType(fixed: $0) }
    } else {
        let decl = try XCTUnwrap(OpRegistry.decl(op), file: file, line: line)
        let ctx = ShapeContext(attributes: attrs, operands: ids.map { $0.map { g.type(of: $0) } },
                               isWeight: ids.map { $0.map { g[$0].isWeight } ?? false })
        types = try decl.infer(ctx).results
    }
    let results = g.addNode(op, ids, attrs, results: types.enumerated().map { ("r\($0.offset)", $0.element) })
    g.outputs = results
    var weights: [String: Tensor] = [:]
    for (i, o) in operands.enumerated() { if case .weight(let t) = o { weights["w\(i)"] = t } }
    let out = try Interpreter(graph: g, weights: weights).run(inputs: feeds)
    return results.map { out[$0]! }
}

func tensor(_ shape: [Int], _ data: [Float]) -> Tensor { Tensor(shape: shape, data: data) }

/// 0, 1, 2, … as a tensor of `shape`.
func iota(_ shape: [Int], from start: Float = 0) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, data: (0..<n).map { start + Float($0) })
}

func assertClose(_ a: Tensor, _ b: Tensor, tolerance: Float = 1e-6, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
    guard a.shape == b.shape else { return }
    let e = Agreement.relative(a.data, b.data, floor: 1)
    XCTAssertLessThanOrEqual(e, tolerance, "\(message) got \(a.data.prefix(12)) expected \(b.data.prefix(12))", file: file, line: line)
}
