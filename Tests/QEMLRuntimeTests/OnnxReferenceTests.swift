import TestSupport
import Foundation
import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The interpreter against ONNX Runtime: single ops and a CBAM block on random data
/// (fixtures written by scripts/onnx_reference.py).
final class OnnxReferenceTests: XCTestCase {
    static let fixtures = "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures/onnx/"

    func testSingleOpsMatchOnnxRuntime() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "ops.json"))
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 50)
        var worst: (Float, String) = (0, "")
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String), op = try XCTUnwrap(c["op"] as? String)
            let decl = try XCTUnwrap(OpRegistry.decl(op), name)
            // Attributes typed by the op declaration (JSON numbers do not say int or float).
            var attrs: [(String, Attribute)] = []
            for (key, value) in try XCTUnwrap(c["attributes"] as? [String: Any]) {
                let kind = try XCTUnwrap(decl.attributes.first { $0.name == key }?.kind, "\(name): \(key)")
                switch kind {
                case .int: attrs.append((key, .int(try XCTUnwrap(value as? Int))))
                case .ints: attrs.append((key, .ints(try XCTUnwrap(value as? [Int]))))
                case .float: attrs.append((key, .float(try XCTUnwrap(value as? Double))))
                case .bool: attrs.append((key, .bool(try XCTUnwrap(value as? Bool))))
                case .string, .choice: attrs.append((key, .string(try XCTUnwrap(value as? String))))
                default: XCTFail("\(name): attribute kind \(kind)")
                }
            }
            var operands: [Operand] = []
            for o in try XCTUnwrap(c["operands"] as? [[String: Any]]) {
                let slot = try XCTUnwrap(o["slot"] as? Int)
                let t = try NPY.read(path: Self.fixtures + (try XCTUnwrap(o["file"] as? String)))
                while operands.count <= slot { operands.append(.absent) }
                operands[slot] = (o["kind"] as? String) == "weight" ? .weight(t) : .input(t)
            }
            let results = try runOp(op, operands, attrs)
            let expected = try XCTUnwrap(c["results"] as? [String]).map { try NPY.read(path: Self.fixtures + $0) }
            XCTAssertEqual(results.count, expected.count, name)
            for (r, e) in zip(results, expected) {
                XCTAssertEqual(r.shape, e.shape, name)
                guard r.shape == e.shape else { continue }
                let err = Agreement.relative(r.data, e.data, floor: 1)
                XCTAssertLessThanOrEqual(err, 1e-5, name)
                if !(err <= worst.0) { worst = (err, name) }
            }
        }
        print("ONNX Runtime single ops: \(cases.count) cases, worst error \(worst.0) (\(worst.1))")
    }

    func testCBAMBlockMatchesOnnxRuntime() throws {
        let source = """
        model "cbam"
        input %x: f32[N,32,6,5]
        def mlp(%v, c, hidden) {
          %fc1 = conv2d(%v, @.fc1.weight, out=hidden, kernel=1)
          return conv2d(relu(%fc1), @.fc2.weight, out=c, kernel=1)
        }
        def cbam(%x, c, ratio=16) {
          %avg = mlp(global_avgpool(%x), c, c / ratio, scope=".ca")
          %max = mlp(global_maxpool(%x), c, c / ratio, scope=".ca")
          %ca = mul(%x, sigmoid(add(%avg, %max)))
          %pooled = concat(channel_mean(%ca), channel_max(%ca), axis=1)
          %sa = conv2d(%pooled, @.sa.conv.weight, out=1, kernel=7, padding=3)
          return mul(%ca, sigmoid(%sa))
        }
        %y = cbam(%x, 32, scope="cbam")
        output %y
        """
        let g = try QIR.parse(source, file: "cbam.qir")
        var weights: [String: Tensor] = [:]
        for name in ["cbam.ca.fc1.weight", "cbam.ca.fc2.weight", "cbam.sa.conv.weight"] {
            weights[name] = try NPY.read(path: Self.fixtures + name + ".npy")
        }
        let out = try Interpreter(graph: g, weights: weights).evaluate(["y"], inputs: ["x": try NPY.read(path: Self.fixtures + "cbam_input.npy")])
        let expected = try NPY.read(path: Self.fixtures + "cbam_output.npy")
        let y = try XCTUnwrap(out["y"])
        XCTAssertEqual(y.shape, [2, 32, 6, 5])
        XCTAssertLessThanOrEqual(Agreement.relative(y.data, expected.data, floor: 1), 1e-5)
    }
}
