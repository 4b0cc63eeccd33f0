import XCTest
@testable import QEMLIR

/// Paths relative to this file, so tests run from any working directory.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

final class ExamplesTests: XCTestCase {
    func load(_ name: String) throws -> Graph {
        do { return try QIR.load(path: Repo.path("examples/\(name).qir")) } catch {
            XCTFail("\(error)")
            throw error
        }
    }

    func testEdgeShapes() throws {
        let g = try load("qemlnet-edge")
        func type(_ n: String) -> String? { g.value(named: n).map { g.type(of: $0).description } }
        XCTAssertEqual(type("spectrogram"), "f32[1,1,64,64]")
        XCTAssertEqual(type("stem"), "f32[1,64,16,16]")
        XCTAssertEqual(type("layer1"), "f32[1,256,16,16]")
        XCTAssertEqual(type("layer2"), "f32[1,512,8,8]")
        XCTAssertEqual(type("layer3"), "f32[1,1024,4,4]")
        XCTAssertEqual(type("layer4"), "f32[1,2048,2,2]")
        XCTAssertEqual(type("features"), "f32[1,2048]")
        XCTAssertEqual(type("angles"), "f32[1,4]")
        XCTAssertEqual(type("expvals"), "f32[1,4]")
        XCTAssertEqual(type("logits"), "f32[1,8]")
        XCTAssertEqual(type("probs"), "f32[1,8]")
        XCTAssertEqual(g.outputs.map { g[$0].name }, ["probs", "features"])
        XCTAssertEqual(g.labels.count, 8)
        XCTAssertEqual(g.frontend?["n_fft"], .int(256))
        let w = Dictionary(uniqueKeysWithValues: g.weights.map { (g[$0].name, g.type(of: $0).description) })
        XCTAssertEqual(w["conv1.weight"], "f32[64,1,7,7]")
        XCTAssertEqual(w["layer1.0.downsample.0.weight"], "f32[256,64,1,1]")
        XCTAssertEqual(w["layer1.0.downsample.1.running_var"], "f32[256]")
        XCTAssertEqual(w["layer2.0.conv2.weight"], "f32[128,128,3,3]")
        XCTAssertEqual(w["layer4.2.cbam.ca.fc1.weight"], "f32[128,2048,1,1]")
        XCTAssertEqual(w["layer4.2.cbam.ca.fc2.weight"], "f32[2048,128,1,1]")
        XCTAssertEqual(w["layer3.5.cbam.sa.conv.weight"], "f32[1,2,7,7]")
        XCTAssertEqual(w["fc.weight"], "f32[4,2048]")
        XCTAssertEqual(w["pqc.weights"], "f32[6,4,3]")
        XCTAssertEqual(w["head.weight"], "f32[8,4]")
        XCTAssertNil(w["layer1.1.downsample.0.weight"])
        let circuit = g.nodes.first { $0.op == "circuit" }?.attributes["body"]?.circuit
        XCTAssertEqual(circuit?.gates.count, 4 + 6 * (4 + 3))
        XCTAssertEqual(circuit?.measurements.count, 4)
    }

    static let examples = ["qemlnet-edge", "qemlnet-tiny", "qemlnet-circuit", "qemlnet-paper"]

    /// print → parse gives an equal graph, and printing is a fixpoint.
    func testExamplesRoundTrip() throws {
        for name in Self.examples {
            let g = try load(name)
            let text = QIR.print(g)
            let back: Graph
            do { back = try QIR.parse(text, file: "\(name).dump.qir") } catch { XCTFail("\(name): \(error)"); continue }
            XCTAssertEqual(back, g, name)
            XCTAssertEqual(QIR.print(back), text, name)
            XCTAssertEqual(g.compacted(), g, "\(name): lowering yields a compacted graph")
        }
    }

    func testTinyAndCircuitShapes() throws {
        let tiny = try load("qemlnet-tiny")
        XCTAssertEqual(tiny.type(of: tiny.inputs[0]).description, "f32[N,2,32,32]")
        XCTAssertEqual(tiny.value(named: "features").map { tiny.type(of: $0).description }, "f32[N,64]")
        XCTAssertEqual(tiny.value(named: "probs").map { tiny.type(of: $0).description }, "f32[N,8]")
        let c = try load("qemlnet-circuit")
        XCTAssertEqual(c.nodes.count, 1)
        XCTAssertEqual(c.outputs.map { c.type(of: $0).description }, ["f32[N,4]"])
        XCTAssertEqual(c.weights.map { c.type(of: $0).description }, ["f32[6,4,3]"])
        let paper = try load("qemlnet-paper")
        XCTAssertNil(paper.frontend)
        XCTAssertEqual(paper.value(named: "layer4").map { paper.type(of: $0).description }, "f32[1,2048,7,7]")
        XCTAssertEqual(paper.weights.first.map { paper.type(of: $0).description }, "f32[64,3,7,7]")
    }
}
