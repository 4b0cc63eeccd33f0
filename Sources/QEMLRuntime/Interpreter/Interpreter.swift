import Foundation
import QEMLIR
import QEMLTensor

/// The reference interpreter: runs a graph op by op with plain loops. It is the oracle every
/// compiled kernel is tested against, so each kernel favours "obviously correct" over fast.
///
/// Numerics: values are stored as f32 (the IR's only type); reductions (convolution, dense,
/// pooling means, softmax, BatchNorm) accumulate in Double, so the interpreter's rounding error
/// is about that of a single f32 rounding per op — smaller than any optimized kernel's, which is
/// what an oracle should be. The circuit op is simulated in Double.
///
/// Kernels are looked up by op name, in this order:
/// 1. the `kernels` passed to `init` (tests, experiments);
/// 2. the built-in kernels, one table per file of this folder (`convKernels`, `elementwiseKernels`,
///    `poolKernels`, `shapeKernels`, `circuitKernels`, `fusedKernels` for the ops passes create),
///    merged in `builtinKernels`. A new file adds
///    `extension Interpreter { static let myKernels: [String: ReferenceKernel] = […] }` and lists
///    it in `builtinKernels`.
public struct Interpreter: Sendable {
    public let graph: Graph
    private let weightValues: [ValueID: Tensor]
    private let kernels: [String: ReferenceKernel]

    /// Binds `weights` (by state_dict name) to the graph's weight values, checking that every
    /// weight is present with the declared shape and that every op has a kernel.
    public init(graph: Graph, weights: [String: Tensor], kernels extra: [String: ReferenceKernel] = [:]) throws(Diagnostic) {
        self.graph = graph
        var bound: [ValueID: Tensor] = [:]
        let users = graph.users()
        for v in graph.weights {
            let value = graph[v]
            guard let name = value.weightName else { continue }
            let location = users[v.raw].first.flatMap { graph.nodes[$0].location }
            guard let t = weights[name] else {
                throw Diagnostic("missing weight '\(name)' (the model needs \(value.type))", at: location,
                                 notes: ["the weights hold \(plural(weights.count, "tensor")); generate a complete set with `qemlc init-weights`"])
            }
            if let expected = value.type.fixedShape, expected != t.shape {
                throw Diagnostic("weight '\(name)' has shape \(describeShape(t.shape)) but the model needs \(describeShape(expected))", at: location)
            }
            bound[v] = t
        }
        weightValues = bound
        var table: [String: ReferenceKernel] = [:]
        for node in graph.nodes where table[node.op] == nil {
            guard let k = extra[node.op] ?? Interpreter.kernel(for: node.op) else {
                throw Diagnostic("the reference interpreter has no kernel for op '\(node.op)'", at: node.location,
                                 notes: ["ops with kernels: " + Interpreter.knownOps.joined(separator: ", ")])
            }
            table[node.op] = k
        }
        kernels = table
    }

    /// Runs the graph and returns every value it computed (plus the given ones), by id.
    /// `inputs` maps names to tensors: graph inputs, or any named intermediate value, which is
    /// then taken as given and the nodes needed only to produce it are skipped.
    public func run(inputs: [String: Tensor]) throws(Diagnostic) -> [ValueID: Tensor] {
        try run(inputs: inputs, wanted: graph.outputs)
    }

    /// Computes the named values only (and what they need).
    public func evaluate(_ names: [String], inputs: [String: Tensor]) throws(Diagnostic) -> [String: Tensor] {
        var wanted: [ValueID] = []
        for n in names {
            guard let v = graph.value(named: n) else { throw Diagnostic("the model has no value named '\(n)'", notes: [valueNamesNote()]) }
            wanted.append(v)
        }
        let all = try run(inputs: inputs, wanted: wanted)
        var out: [String: Tensor] = [:]
        for (n, v) in zip(names, wanted) { out[n] = all[v] }
        return out
    }

    /// Runs the nodes `wanted` depends on.
    public func run(inputs: [String: Tensor], wanted: [ValueID]) throws(Diagnostic) -> [ValueID: Tensor] {
        var values = [Tensor?](repeating: nil, count: graph.values.count)
        for (v, t) in weightValues { values[v.raw] = t }
        var bindings: [String: Int] = [:]
        var given = Set<ValueID>()
        for (name, t) in inputs.sorted(by: { $0.key < $1.key }) {
            guard let v = graph.value(named: name) else {
                throw Diagnostic("the model has no value named '\(name)' to bind an input to", notes: [valueNamesNote()])
            }
            try bind(t.shape, to: graph.type(of: v), what: "input '\(name)'", bindings: &bindings)
            values[v.raw] = t
            given.insert(v)
        }
        // Walk back from the wanted values, stopping at given values and weights.
        var needed = Set<Int>()
        var stack = wanted
        var seen = Set<ValueID>()
        while let v = stack.popLast() {
            guard seen.insert(v).inserted, values[v.raw] == nil else { continue }
            switch graph[v].def {
            case .input:
                throw Diagnostic("input '\(graph[v].name)' (\(graph[v].type)) is needed but was not given",
                                 notes: ["pass it, e.g. --input \(graph[v].name)=file.npy"])
            case .weight(let n):
                throw Diagnostic("weight '\(n)' is not bound")
            case .node(let i, _):
                if needed.insert(i).inserted { stack.append(contentsOf: graph.nodes[i].operands.compactMap { $0 }) }
            }
        }
        // QEMLC_DEBUG=2 and up: time spent per op kind, on stderr.
        let timing = DebugLadder.level >= 2
        var spent: [String: (seconds: Double, count: Int)] = [:]
        defer {
            if timing {
                for (op, t) in spent.sorted(by: { $0.value.seconds > $1.value.seconds }) {
                    FileHandle.standardError.write(Data("interpreter: \(op) ×\(t.count): \(String(format: "%.3f", t.seconds)) s\n".utf8))
                }
            }
        }
        for i in needed.sorted() {
            let node = graph.nodes[i]
            let start = timing ? DispatchTime.now().uptimeNanoseconds : 0
            defer {
                if timing {
                    let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    spent[node.op, default: (0, 0)].seconds += s
                    spent[node.op, default: (0, 0)].count += 1
                }
            }
            let operands = node.operands.map { $0.flatMap { values[$0.raw] } }
            let results: [Tensor]
            guard let kernel = kernels[node.op] else { throw Diagnostic("no kernel for op '\(node.op)'", at: node.location) }
            do { results = try kernel(node, operands, graph) } catch let d as Diagnostic {
                throw Diagnostic(d.message, at: d.location ?? node.location, sourceLine: d.sourceLine, notes: d.notes)
            } catch {
                throw Diagnostic("\(node.op): \(error)", at: node.location)
            }
            guard results.count == node.results.count else {
                throw Diagnostic("the \(node.op) kernel returned \(results.count) results, the node has \(node.results.count)", at: node.location)
            }
            // A given value stays as given, even when its node runs for another of its results.
            for (r, t) in zip(node.results, results) where !given.contains(r) {
                try bind(t.shape, to: graph.type(of: r), what: "result '\(graph[r].name)' of \(node.op)", bindings: &bindings)
                values[r.raw] = t
            }
        }
        var out: [ValueID: Tensor] = [:]
        for (i, t) in values.enumerated() where t != nil && !graph.values[i].isWeight { out[ValueID(i)] = t }
        return out
    }

    /// Checks a run-time shape against a declared type, binding symbolic dimensions (the batch `N`).
    private func bind(_ shape: [Int], to type: TensorType, what: String, bindings: inout [String: Int]) throws(Diagnostic) {
        guard shape.count == type.rank else {
            throw Diagnostic("\(what) has shape \(describeShape(shape)) but the model declares \(type)")
        }
        for (d, s) in zip(type.dims, shape) {
            switch d {
            case .fixed(let v) where v != s:
                throw Diagnostic("\(what) has shape \(describeShape(shape)) but the model declares \(type)")
            case .symbolic(let name):
                if let b = bindings[name], b != s {
                    throw Diagnostic("\(what) has shape \(describeShape(shape)), which makes \(name) = \(s), but \(name) = \(b) from an earlier input",
                                     notes: ["every input must have the same batch size"])
                }
                bindings[name] = s
            default: break
            }
        }
    }

    private func valueNamesNote() -> String {
        let names = graph.inputs.map { graph[$0].name }
        return "the model's inputs are: " + names.joined(separator: ", ") + " (any named value may be given as well)"
    }
}

/// A reference kernel: the node (attributes), its operand tensors by declared slot (nil where
/// an optional operand is absent) and the graph; returns one tensor per node result.
public typealias ReferenceKernel = @Sendable (Node, [Tensor?], Graph) throws -> [Tensor]

extension Interpreter {
    /// The base ops' kernels, one table per file of this folder.
    static let builtinKernels: [String: ReferenceKernel] = {
        var all: [String: ReferenceKernel] = [:]
        for table in [convKernels, elementwiseKernels, poolKernels, shapeKernels, circuitKernels, fusedKernels] {
            all.merge(table) { a, _ in a }
        }
        return all
    }()

    public static func kernel(for op: String) -> ReferenceKernel? { builtinKernels[op] }

    /// Every op with a kernel, sorted.
    public static var knownOps: [String] { builtinKernels.keys.sorted() }
}
