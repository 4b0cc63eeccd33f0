import XCTest
@testable import QEMLIR

/// Weight checking against a weights file, the verifier on hand-broken graphs, and DOT output.
final class CheckingTests: XCTestCase {
    let src = """
    input %x: f32[1,3,8,8]
    %y = conv2d(%x, @conv.weight, bias=@conv.bias, out=4, kernel=3)
    %z = dense(flatten(%y), @fc.weight, out=2)
    """

    func testWeightCheckPassesWhenComplete() throws {
        let g = try QIR.parse(src, file: "m.qir")
        XCTAssertNoThrow(try WeightCheck.check(g, available: ["conv.weight": [4, 3, 3, 3], "conv.bias": [4], "fc.weight": [2, 144], "extra": [1]],
                                               file: "w.safetensors"))
    }

    func testWeightCheckReportsMissingAndMisShapedAtTheirNodes() throws {
        let g = try QIR.parse(src, file: "m.qir")
        XCTAssertThrowsError(try WeightCheck.check(g, available: ["model.conv.weight": [4, 3, 3, 3], "fc.weight": [2, 100], "conv.bias": [4]],
                                                   file: "w.safetensors")) { error in
            guard let list = error as? DiagnosticList else { return XCTFail("\(error)") }
            XCTAssertEqual(list.description, """
            m.qir:2:6: error: missing weight @conv.weight (f32[4,3,3,3]) in w.safetensors
              note: w.safetensors has 'model.conv.weight': strip the prefix when saving the state_dict
            m.qir:3:6: error: weight @fc.weight has shape [2,100] in w.safetensors but the model expects [2,144]
            """)
        }
    }

    func testWeightCheckEdgeModelNamesMatchStateDictNames() throws {
        // Every weight of the edge model, as a PyTorch state_dict of this architecture names it.
        let g = try QIR.load(path: Repo.path("examples/qemlnet-edge.qir"))
        var available: [String: [Int]] = [:]
        for w in g.weights { available[g[w].name] = g.type(of: w).fixedShape }
        XCTAssertNoThrow(try WeightCheck.check(g, available: available, file: "w.safetensors"))
        let names = Set(available.keys)
        for s in 1...4 {
            XCTAssertTrue(names.contains("layer\(s).0.downsample.0.weight"))
            XCTAssertTrue(names.contains("layer\(s).0.downsample.1.running_mean"))
        }
        XCTAssertEqual(names.filter { $0.hasSuffix(".cbam.sa.conv.weight") }.count, 16)
        XCTAssertEqual(names.filter { $0.contains("downsample") }.count, 4 * 5)
        XCTAssertEqual(names.count, 1 + 4 + 16 * (3 + 12 + 3) + 4 * 5 + 2 + 1 + 2)
    }

    func expectVerifierError(_ g: Graph, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Verifier.verify(g), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(text), "\(error)", file: file, line: line)
        }
    }

    func testVerifierCatchesBrokenGraphs() throws {
        let g = try QIR.parse(src, file: "m.qir")
        XCTAssertNoThrow(try Verifier.verify(g))

        var wrongType = g
        wrongType.values[g.value(named: "z")!.raw].type = TensorType(fixed: [1, 3])
        expectVerifierError(wrongType, contains: "dense defining %z: result types f32[1,3] differ from the inferred f32[1,2]")

        var unknownOp = g
        unknownOp.nodes[0].op = "conv3d"
        expectVerifierError(unknownOp, contains: "unknown op 'conv3d'")

        var missingOperand = g
        missingOperand.nodes[0].operands[1] = nil
        expectVerifierError(missingOperand, contains: "operand 'weight' is missing")

        var badAttribute = g
        badAttribute.nodes[0].attributes["kernel"] = .string("3")
        expectVerifierError(badAttribute, contains: "attribute 'kernel' = \"3\" is not 2 integers")

        var unknownAttribute = g
        unknownAttribute.nodes[0].attributes["speed"] = .int(2)
        expectVerifierError(unknownAttribute, contains: "unknown attribute speed")

        var useBeforeDef = g
        useBeforeDef.nodes.swapAt(1, 2)
        expectVerifierError(useBeforeDef, contains: "is used before it is defined")

        var duplicateName = g
        duplicateName.values[g.value(named: "z")!.raw].name = "y"
        expectVerifierError(duplicateName, contains: "the name %y is used by")

        var badName = g
        badName.values[g.value(named: "z")!.raw].name = "my value"
        expectVerifierError(badName, contains: "which is not [A-Za-z0-9_.]+")

        var wrongWeight = g
        wrongWeight.values[g.weights[0].raw].type = TensorType(fixed: [4, 3, 1, 1])
        expectVerifierError(wrongWeight, contains: "weight @conv.weight is f32[4,3,1,1] but the op needs f32[4,3,3,3]")

        var slots = g
        slots.nodes[1].operands.append(nil)
        expectVerifierError(slots, contains: "has 2 operand slots, the declaration has 1")
    }

    func testVerifierChecksCircuitBodies() throws {
        let c = try QIR.load(path: Repo.path("examples/qemlnet-circuit.qir"))
        var bad = c
        var body = c.nodes[0].attributes["body"]!.circuit!
        body.gates.append(Gate(.cnot, wires: [1, 1]))
        body.gates.append(Gate(.rx, wires: [7], params: [.constant(1)]))
        bad.nodes[0].attributes["body"] = .circuit(body)
        XCTAssertThrowsError(try Verifier.verify(bad)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("gate 46 (cnot) repeats a wire"), text)
            XCTAssertTrue(text.contains("gate 47 (rx) uses a wire outside 0…3"), text)
        }
    }

    func testDot() throws {
        let g = try QIR.load(path: Repo.path("examples/qemlnet-circuit.qir"))
        let dot = QIR.dot(g)
        XCTAssertTrue(dot.hasPrefix("digraph \"qemlnet-circuit\" {"), dot)
        XCTAssertTrue(dot.contains("v0 [shape=ellipse, label=\"%angles\\nf32[N,4]\"];"), dot)
        XCTAssertTrue(dot.contains("n0 [shape=box, label=\"circuit\\n%expvals f32[N,4]\\n@pqc.weights\"];"), dot)
        XCTAssertTrue(dot.contains("v0 -> n0;"), dot)
        XCTAssertTrue(dot.contains("n0 -> out0;"), dot)
        XCTAssertTrue(dot.hasSuffix("}\n"))
        let edge = QIR.dot(try QIR.load(path: Repo.path("examples/qemlnet-edge.qir")))
        XCTAssertEqual(edge.components(separatedBy: "[shape=box").count - 1, try QIR.load(path: Repo.path("examples/qemlnet-edge.qir")).nodes.count)
    }
}
