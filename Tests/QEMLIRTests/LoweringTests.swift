import Foundation
import XCTest
@testable import QEMLIR

/// Semantics of lowering: scopes, naming, loops, conditionals, compile-time values, templates.
final class LoweringTests: XCTestCase {
    func parse(_ src: String, file: String = "t.qir") throws -> Graph {
        do { return try QIR.parse(src, file: file) } catch {
            XCTFail("\(error)")
            throw error
        }
    }

    func weightNames(_ g: Graph) -> [String] { g.weights.map { g[$0].name } }
    func valueNames(_ g: Graph) -> [String] { g.nodes.flatMap { $0.results.map { g[$0].name } } }

    func testScopesAndWeightNames() throws {
        let g = try parse("""
        input %x: f32[1,4]
        def leaf(%v) {
          return dense(%v, @.fc.weight, out=4)
        }
        def inner(%v) {
          %a = leaf(%v, scope=".sub")
          %b = leaf(%a, scope="abs")
          return leaf(%b)
        }
        %y = inner(%x, scope="outer")
        %z = inner(%y)
        %w = leaf(%z, scope="")
        """)
        XCTAssertEqual(weightNames(g), ["outer.sub.fc.weight", "abs.fc.weight", "outer.fc.weight",
                                        "sub.fc.weight", "fc.weight"])
        // Inside blocks: %S.<op> names with _2 on collision; at top level, the written name.
        XCTAssertEqual(valueNames(g), ["outer.sub.dense", "abs.dense", "y", "sub.dense", "abs.dense_2", "z", "w"])
    }

    func testNamedValuesInBlocksAndCollisions() throws {
        let g = try parse("""
        input %x: f32[1,4]
        def f(%v) {
          %t = relu(%v)
          return tanh(%t)
        }
        %a = f(%x, scope="s")
        %b = f(%a, scope="s")
        %t = sigmoid(%b)
        """)
        XCTAssertEqual(valueNames(g), ["s.t", "a", "s.t_2", "b", "t"])
    }

    func testTopLevelNamesAreReservedAgainstGeneratedOnes() throws {
        // The block would name its relu "relu", but the top level writes %relu later.
        let g = try parse("""
        input %x: f32[1,4]
        def f(%v) {
          return tanh(relu(%v))
        }
        %a = f(%x)
        %relu = relu(%a)
        """)
        XCTAssertEqual(valueNames(g), ["relu_2", "a", "relu"])
        // The same for unnamed intermediates at top level.
        let h = try parse("input %x: f32[1,4]\n%a = tanh(relu(%x))\n%relu = sigmoid(%a)\n")
        XCTAssertEqual(valueNames(h), ["relu_2", "a", "relu"])
    }

    func testLoopCarriedRebindingAndIterationLocals() throws {
        let g = try parse("""
        input %x: f32[1,4]
        %y = relu(%x)
        for i in 0..3 {
          %t = scale(%y, by=i)
          %y = add(%t, %x)
        }
        output %y
        """)
        XCTAssertEqual(g.nodes.count, 7)
        XCTAssertEqual(valueNames(g), ["y", "t", "y_2", "t_2", "y_3", "t_3", "y_4"])
        XCTAssertEqual(g.outputs.map { g[$0].name }, ["y_4"])
        XCTAssertEqual(g.nodes[5].attributes.double("by"), 2)
    }

    func testIfElseLetListsAndInterpolation() throws {
        let g = try parse("""
        input %x: f32[1,4]
        def f(%v, n, tag) {
          let half = n / 2
          if half > 1 && tag == "big" {
            %r = scale(%v, by=half)
          } else if n % 2 == 1 {
            %r = relu(%v)
          } else {
            %r = %v
          }
          return dense(%r, @{tag}.layer{n}.weight, out=[3, 5, 7][half])
        }
        %a = f(%x, 4, "big")
        %b = f(%x, 3, "odd")
        %c = f(%x, 2, "small")
        """)
        XCTAssertEqual(g.nodes.map(\.op), ["scale", "dense", "relu", "dense", "dense"])
        XCTAssertEqual(g.nodes[0].attributes.double("by"), 2)
        XCTAssertEqual(weightNames(g), ["big.layer4.weight", "odd.layer3.weight", "small.layer2.weight"])
        // %r inside an unscoped block keeps its name (then r_2); the block results take the top-level names.
        XCTAssertEqual(valueNames(g), ["r", "a", "r_2", "b", "c"])
        XCTAssertEqual(g.value(named: "c").map { g.type(of: $0).description }, "f32[1,5]")
    }

    func testFloorDivisionAndModulo() {
        let ev = ConstEval(lookup: { _ in nil })
        let l = SourceLocation(file: "t", line: 1, column: 1)
        XCTAssertEqual(try ev.binary("/", .int(-7), .int(2), l), .int(-4))
        XCTAssertEqual(try ev.binary("%", .int(-1), .int(4), l), .int(3))
        XCTAssertEqual(try ev.binary("/", .int(7), .int(2), l), .int(3))
        XCTAssertEqual(try ev.binary("/", .int(7), .float(2), l), .float(3.5))
    }

    func testMultipleResultsAndAnnotations() throws {
        let g = try parse("""
        input %x: f32[N,3,8,8]
        %y, %avg, %max = conv2d(%x, @w, out=4, kernel=3, padding=1, pool="avgmax") : f32[N,4,8,8], f32[N,4,1,1], f32[N,4,1,1]
        def two(%v) {
          return relu(%v), tanh(%v)
        }
        %p, %q = two(%avg)
        %s = add(%p, %q) : f32[N,4,1,1]
        """)
        XCTAssertEqual(g.nodes[0].results.count, 3)
        XCTAssertEqual(g.value(named: "max").map { g.type(of: $0).description }, "f32[N,4,1,1]")
        XCTAssertEqual(g.outputs.map { g[$0].name }, ["s"])
    }

    func testWeightDeclarationAndPrinting() throws {
        let g = try parse("""
        weight @bias: f32[4]
        input %x: f32[2,4]
        %y = add(%x, @bias)
        """)
        XCTAssertEqual(g.weights.map { g.type(of: $0).description }, ["f32[4]"])
        let text = QIR.print(g)
        XCTAssertTrue(text.contains("weight @bias: f32[4]\n"), text)
        XCTAssertEqual(try QIR.parse(text, file: "dump.qir"), g)
    }

    func testSharedWeightsAreOneValue() throws {
        let g = try QIR.load(path: Repo.path("examples/qemlnet-edge.qir"))
        let fc1 = g.weights.filter { g[$0].name == "layer1.0.cbam.ca.fc1.weight" }
        XCTAssertEqual(fc1.count, 1)
        XCTAssertEqual(g.users()[fc1[0].raw].count, 2, "the avg and max paths share the MLP")
        XCTAssertEqual(g.weights.count, Set(g.weights.map { g[$0].name }).count)
    }

    func testFrontendSettingsAreCoercedAndKept() throws {
        let g = try parse("""
        frontend %s {
          ref = 2
          resize = 32
          window = "blackman"
        }
        input %s: f32[1,1,32,32]
        %y = relu(%s)
        """)
        XCTAssertEqual(g.frontend?.settings.map(\.0), ["ref", "resize", "window"])
        XCTAssertEqual(g.frontend?["ref"], .float(2))
        XCTAssertEqual(g.frontend?["resize"], .ints([32, 32]))
        XCTAssertEqual(g.frontend?["hop"], .int(64), "absent keys read their default")
    }

    func testLoadMissingFile() {
        XCTAssertThrowsError(try QIR.load(path: "/nonexistent/model.qir")) { error in
            XCTAssertEqual("\(error)", "error: /nonexistent/model.qir: no such file\n  note: check the path; models end in .qir")
        }
    }

    func testByteOrderMarkCRLFAndTabs() throws {
        let g = try parse("\u{FEFF}input %x: f32[1,4]\r\n%y =\trelu(%x)\r\n")
        XCTAssertEqual(g.nodes.count, 1)
        XCTAssertThrowsError(try QIR.parse("input %x: f32[1,4]\n\t%y = relu(%q)\n", file: "t.qir")) { error in
            XCTAssertEqual("\(error)", "t.qir:2:12: error: undefined value %q\n   %y = relu(%q)\n             ^\n  note: did you mean 'x'?")
        }
    }

    func testNoOutputMeansLastValue() throws {
        let g = try parse("input %x: f32[1,4]\n%a = relu(%x)\n%b = tanh(%a)\n")
        XCTAssertEqual(g.outputs.map { g[$0].name }, ["b"])
    }

    // MARK: circuits

    func circuit(_ body: String, input: String = "f32[N,4]", weights: String = "@pqc.weights", wires: Int = 4) throws -> (Graph, Circuit) {
        let g = try parse("""
        input %a: \(input)
        %e = circuit(%a\(weights.isEmpty ? "" : ", " + weights), wires=\(wires)) {
        \(body)
        }
        """)
        return (g, g.nodes[0].attributes["body"]!.circuit!)
    }

    func testEdgeCircuitGates() throws {
        let (g, c) = try circuit("""
          angle_embedding(x, rotation="Y")
          for l in 0..6 {
            for q in 0..4 { rot(w[l,q,0], w[l,q,1], w[l,q,2], wires=q) }
            for q in 0..3 { cnot(wires=[q, q+1]) }
          }
          expval(Z, wires=[0,1,2,3])
        """)
        XCTAssertEqual(c.gates[0], Gate(.ry, wires: [0], params: [.input(column: 0)]))
        XCTAssertEqual(c.gates[4], Gate(.rot, wires: [0], params: [.weight(operand: 1, index: [0, 0, 0]), .weight(operand: 1, index: [0, 0, 1]), .weight(operand: 1, index: [0, 0, 2])]))
        XCTAssertEqual(c.gates[8], Gate(.cnot, wires: [0, 1]))
        XCTAssertEqual(c.gates.last, Gate(.cnot, wires: [2, 3]))
        XCTAssertEqual(c.measurements, (0..<4).map { .expval(.z, wire: $0) })
        // rot_layers is the same circuit.
        let (g2, c2) = try circuit("  angle_embedding(x, rotation=\"Y\")\n  rot_layers(w, layers=6)\n  expval(Z, wires=[0,1,2,3])")
        XCTAssertEqual(c2, c)
        XCTAssertEqual(g2, g)
    }

    func testConstantParametersProbsAndSeveralWeights() throws {
        let (g, c) = try circuit("""
          rx(pi / 2, wires=0)
          phaseshift(-0.25, wires=1)
          crz(w2[1], wires=[1, 0])
          ry(w1[0,2], wires=2)
          probs(wires=[0, 2])
          expval(X, wires=[1])
        """, input: "f32[2,1]", weights: "@a, @b", wires: 3)
        XCTAssertEqual(c.gates[0].params, [.constant(Double.pi / 2)])
        XCTAssertEqual(c.gates[1].params, [.constant(-0.25)])
        XCTAssertEqual(c.gates[2].params, [.weight(operand: 2, index: [1])])
        XCTAssertEqual(g.weights.map { g.type(of: $0).description }, ["f32[1,3]", "f32[2]"])
        XCTAssertEqual(g.outputs.map { g.type(of: $0).description }, ["f32[2,5]"])
    }

    /// Template expansions equal PennyLane's decompositions (Fixtures/template_gates.txt, made by
    /// scripts/pennylane_template_gates.py).
    func testTemplatesMatchPennyLane() throws {
        let fixture = try String(contentsOfFile: Repo.path("Tests/QEMLIRTests/Fixtures/template_gates.txt"), encoding: .utf8)
        var checked = 0
        for line in fixture.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.components(separatedBy: ": ")
            let header = parts[0].split(separator: " ")
            let expected = parts[1...].joined(separator: ": ")
            var fields: [String: String] = [:]
            for f in header.dropFirst() { let kv = f.split(separator: "="); fields[String(kv[0])] = String(kv[1]) }
            let wires = Int(fields["wires"]!)!
            let call: String, input: String, weights: String
            switch header[0] {
            case "angle_embedding":
                call = "angle_embedding(x, rotation=\"\(fields["rotation"]!)\")"
                input = "f32[1,\(fields["columns"]!)]"
                weights = ""
            default:
                call = "\(header[0])(w, layers=\(fields["layers"]!))"
                input = "f32[1,1]"
                weights = "@w"
            }
            let (_, c) = try circuit("  \(call)\n  expval(Z, wires=[0])", input: input, weights: weights, wires: wires)
            let actual = Printer.circuitBody(Circuit(qubits: wires, gates: c.gates)).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
            XCTAssertEqual(actual, expected, String(line.prefix(60)))
            checked += 1
        }
        XCTAssertEqual(checked, 54)
    }

    func testRingEntanglement() throws {
        let (_, c) = try circuit("  rot_layers(w, entangle=\"ring\", layers=1)\n  expval(Z, wires=[0])")
        XCTAssertEqual(c.gates.filter { $0.kind == .cnot }.map(\.wires), [[0, 1], [1, 2], [2, 3], [3, 0]])
    }
}

final class CircuitBlockTests: XCTestCase {
    /// A circuit inside a block sees the block's parameters and scoped weights.
    func testCircuitInsideBlock() throws {
        let g = try QIR.parse("""
        input %a: f32[N,3]
        def pqc(%v, n, layers, rotation="Y") {
          return circuit(%v, @.weights, wires=n) {
            angle_embedding(x, rotation=rotation)
            strongly_entangling_layers(w, layers=layers)
            if n > 2 { cz(wires=[0, n - 1]) }
            expval(Z, wires=[0, n - 1])
          }
        }
        %e = pqc(%a, 3, 2, scope="q")
        """, file: "t.qir")
        let c = g.nodes[0].attributes["body"]!.circuit!
        XCTAssertEqual(c.gates.count, 3 + 2 * (3 + 3) + 1)
        XCTAssertEqual(c.gates.last, Gate(.cz, wires: [0, 2]))
        XCTAssertEqual(g.weights.map { g[$0].name }, ["q.weights"])
        XCTAssertEqual(g.weights.map { g.type(of: $0).description }, ["f32[2,3,3]"])
        XCTAssertEqual(g[g.outputs[0]].name, "e")
        XCTAssertEqual(g.type(of: g.outputs[0]).description, "f32[N,2]")
    }
}
