import QEMLTensor
import QEMLIR

/// `verify`: fails on a malformed graph instead of letting a later pass or kernel misbehave.
public struct VerifyPass: Pass {
    public init() {}
    public var name: String { "verify" }
    public var summary: String { "check SSA order, operand slots and that every type matches its op's shape rule" }

    public func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        let problems = GraphChecks.problems(in: g)
        guard problems.isEmpty else { throw PassError.verificationFailed(after: name, problems: problems) }
        ctx.log("\(plural(g.nodes.count, "node")), \(plural(g.values.count, "value")): ok")
        return g
    }
}

/// The verifier's findings as lines (the language's `Verifier` states the invariants: values
/// defined once and before use, operand slots and attributes as declared, types as inferred).
public enum GraphChecks {
    public static func problems(in g: Graph) -> [String] {
        do {
            try Verifier.verify(g)
            return []
        } catch let list as DiagnosticList {
            return list.diagnostics.map { d in d.message + (d.location.map { " (\($0))" } ?? "") }
        } catch {
            return ["\(error)"]
        }
    }
}
