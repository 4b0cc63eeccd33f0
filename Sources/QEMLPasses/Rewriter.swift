import QEMLIR

/// Edits a graph in place of its nodes: replace a node (keeping its position), remove nodes,
/// insert nodes before a position; `finish()` drops what is gone and renumbers.
/// Passes match on the original graph, then apply non-overlapping rewrites through this.
struct Rewriter {
    private(set) var graph: Graph
    private var removed = Set<Int>()
    private var inserted: [Int: [Node]] = [:]
    private var names: Set<String>

    init(_ g: Graph) {
        graph = g
        names = Set(g.values.map(\.name))
    }

    mutating func replace(_ index: Int, with node: Node) { graph.nodes[index] = node }

    mutating func remove(_ index: Int) { removed.insert(index) }

    /// `base`, or `base_2`, `base_3`, … : a name no value has yet.
    func freshName(_ base: String) -> String {
        var name = base
        var k = 1
        while names.contains(name) { k += 1; name = "\(base)_\(k)" }
        return name
    }

    /// A fresh value (named after `base`, made unique) for a node inserted later.
    mutating func newValue(_ base: String, _ type: TensorType) -> ValueID {
        let name = freshName(base)
        names.insert(name)
        graph.values.append(Value(name: name, type: type, def: .input))
        return ValueID(graph.values.count - 1)
    }

    /// The value of weight `name` (created when the graph has none yet).
    mutating func weight(_ name: String, _ type: TensorType) -> ValueID { graph.weight(name, type) }

    /// Inserts `node` just before node `index` (or at the end when `index == nodes.count`).
    mutating func insert(_ node: Node, before index: Int) { inserted[index, default: []].append(node) }

    /// Renames a value (used to keep a graph output's name on the value the output now is).
    mutating func rename(_ v: ValueID, to name: String) {
        names.remove(graph[v].name)
        graph[v].name = name
        names.insert(name)
    }

    /// The rewritten graph; `outputs` replaces the graph outputs when given.
    func finish(outputs: [ValueID]? = nil) -> Graph {
        var g = graph
        if let outputs { g.outputs = outputs }
        g.nodes = []
        for i in 0...graph.nodes.count {
            g.nodes += inserted[i] ?? []
            if i < graph.nodes.count, !removed.contains(i) { g.nodes.append(graph.nodes[i]) }
        }
        return g.compacted()
    }
}

/// Read-only questions passes ask about a graph while matching.
struct GraphFacts {
    let graph: Graph
    let users: [[Int]]
    let isOutput: Set<ValueID>

    init(_ g: Graph) {
        graph = g
        users = g.users()
        isOutput = Set(g.outputs)
    }

    /// The node defining `v`, if a node does.
    func producer(_ v: ValueID) -> Node? { graph.producer(of: v).map { graph.nodes[$0] } }

    /// The single node reading `v` (read once, not a graph output), if there is exactly one.
    func soleUser(_ v: ValueID) -> Int? {
        guard !isOutput.contains(v), users[v.raw].count == 1 else { return nil }
        let u = users[v.raw][0]
        guard graph.nodes[u].operands.filter({ $0 == v }).count == 1 else { return nil }
        return u
    }

    func isWeight(_ v: ValueID) -> Bool { graph[v].isWeight }
}

extension Node {
    /// An attribute's value, or the op declaration's default when the node does not set it.
    func attr(_ name: String) -> Attribute? {
        if let a = attributes[name] { return a }
        return OpRegistry.decl(op)?.attributes.first(where: { $0.name == name })?.defaultValue
    }

    func string(_ name: String) -> String? { attr(name)?.string }
    func int(_ name: String) -> Int? { attr(name)?.int }
    func ints(_ name: String) -> [Int]? { attr(name)?.ints }
    func double(_ name: String) -> Double? { attr(name)?.double }

    /// The operand in the slot declared as `name`.
    func operand(named name: String) -> ValueID? {
        guard let i = OpRegistry.decl(op)?.operandIndex(name) else { return nil }
        return operand(i)
    }

    /// Sets operand slot `name`, growing the slot list to the declaration's length.
    mutating func setOperand(_ name: String, _ v: ValueID?) {
        guard let decl = OpRegistry.decl(op), let i = decl.operandIndex(name) else { return }
        if operands.count < decl.operands.count {
            operands += [ValueID?](repeating: nil, count: decl.operands.count - operands.count)
        }
        operands[i] = v
    }

    /// Sets an attribute, keeping the list in the declaration's order so printing is stable.
    mutating func setAttribute(_ name: String, _ value: Attribute) {
        attributes[name] = value
        guard let decl = OpRegistry.decl(op) else { return }
        let order = Dictionary(uniqueKeysWithValues: decl.attributes.enumerated().map { ($1.name, $0) })
        let sorted = attributes.entries.enumerated().sorted {
            (order[$0.element.name] ?? Int.max, $0.offset) < (order[$1.element.name] ?? Int.max, $1.offset)
        }
        attributes = Attributes(sorted.map { ($0.element.name, $0.element.value) })
    }
}
