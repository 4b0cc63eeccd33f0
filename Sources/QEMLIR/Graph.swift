/// Index of a value in `Graph.values`.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.raw < b.raw }
    public var description: String { "v\(raw)" }
}

/// Where a value comes from.
public enum ValueDef: Hashable, Sendable {
    /// A graph input (`input %spectrogram: f32[1,1,64,64]`).
    case input
    /// A trained tensor referenced by its state_dict name (`@layer1.0.conv1.weight`).
    case weight(String)
    /// Result `result` of node `node`.
    case node(Int, result: Int)
}

public struct Value: Hashable, Sendable {
    /// Printed as `%name`; unique in a graph. Weights print as `@name`.
    public var name: String
    public var type: TensorType
    public var def: ValueDef

    public init(name: String, type: TensorType, def: ValueDef) {
        self.name = name
        self.type = type
        self.def = def
    }

    public var isWeight: Bool { if case .weight = def { return true }; return false }
    public var weightName: String? { if case .weight(let n) = def { return n }; return nil }
}

/// An attribute list in a fixed order (the op declaration's), so printing is deterministic.
public struct Attributes: Hashable, Sendable, Sequence {
    public private(set) var entries: [(name: String, value: Attribute)]

    public init(_ entries: [(String, Attribute)] = []) { self.entries = entries.map { (name: $0.0, value: $0.1) } }

    public subscript(name: String) -> Attribute? {
        get { entries.first(where: { $0.name == name })?.value }
        set {
            if let i = entries.firstIndex(where: { $0.name == name }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((name: name, value: newValue))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: Attribute)]> { entries.makeIterator() }

    public static func == (a: Attributes, b: Attributes) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into h: inout Hasher) {
        for e in entries { h.combine(e.name); h.combine(e.value) }
    }

    public func int(_ n: String) -> Int? { self[n]?.int }
    public func double(_ n: String) -> Double? { self[n]?.double }
    public func ints(_ n: String) -> [Int]? { self[n]?.ints }
    public func string(_ n: String) -> String? { self[n]?.string }
    public func bool(_ n: String) -> Bool? { self[n]?.bool }
}

/// One operation. `operands` lines up with the op declaration's operand list: one slot per
/// declared operand, nil where an optional operand is absent; a variadic op's slots are all
/// filled, one per argument.
public struct Node: Hashable, Sendable {
    public var op: String
    public var operands: [ValueID?]
    public var attributes: Attributes
    public var results: [ValueID]
    /// Where the node was written (for diagnostics found after lowering, e.g. weight binding).
    public var location: SourceLocation?

    public init(op: String, operands: [ValueID?], attributes: Attributes = Attributes(), results: [ValueID] = [], location: SourceLocation? = nil) {
        self.op = op
        self.operands = operands
        self.attributes = attributes
        self.results = results
        self.location = location
    }

    public static func == (a: Node, b: Node) -> Bool {
        a.op == b.op && a.operands == b.operands && a.attributes == b.attributes && a.results == b.results
    }
    public func hash(into h: inout Hasher) { h.combine(op); h.combine(operands); h.combine(results) }

    /// The operand in declared slot `i`, if present.
    public func operand(_ i: Int) -> ValueID? { i < operands.count ? operands[i] : nil }
}

/// The graph IR: values and nodes in topological order (SSA: each value defined once, before use).
/// Passes take a graph and return a new one; printing gives `.qir` that parses back to an equal graph.
public struct Graph: Hashable, Sendable {
    public var name: String
    public var labels: [String]
    public var values: [Value]
    public var nodes: [Node]
    public var inputs: [ValueID]
    public var outputs: [ValueID]
    public var frontend: FrontendSpec?
    /// Annotations passes leave for dumps and reports (e.g. `fuse-quantum: strategy=folded …`).
    public var notes: [String]

    public init(name: String = "model", labels: [String] = [], values: [Value] = [], nodes: [Node] = [],
                inputs: [ValueID] = [], outputs: [ValueID] = [], frontend: FrontendSpec? = nil, notes: [String] = []) {
        self.name = name
        self.labels = labels
        self.values = values
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.frontend = frontend
        self.notes = notes
    }

    public subscript(v: ValueID) -> Value {
        get { values[v.raw] }
        set { values[v.raw] = newValue }
    }

    public func type(of v: ValueID) -> TensorType { values[v.raw].type }

    public func value(named name: String) -> ValueID? {
        values.indices.first(where: { values[$0].name == name && !values[$0].isWeight }).map(ValueID.init)
    }

    /// Weight values, in first-use order.
    public var weights: [ValueID] {
        values.indices.filter { values[$0].isWeight }.map(ValueID.init)
    }

    /// The node that defines `v`, if any.
    public func producer(of v: ValueID) -> Int? {
        if case .node(let n, _) = values[v.raw].def { return n }
        return nil
    }

    /// For each value, the indices of the nodes that read it.
    public func users() -> [[Int]] {
        var u = [[Int]](repeating: [], count: values.count)
        for (i, n) in nodes.enumerated() {
            for case let v? in n.operands where !u[v.raw].contains(i) { u[v.raw].append(i) }
        }
        return u
    }

    // MARK: building

    @discardableResult
    public mutating func addInput(_ name: String, _ type: TensorType) -> ValueID {
        let id = ValueID(values.count)
        values.append(Value(name: name, type: type, def: .input))
        inputs.append(id)
        return id
    }

    /// The value for weight `name`, created on first reference.
    public mutating func weight(_ name: String, _ type: TensorType) -> ValueID {
        if let i = values.firstIndex(where: { $0.weightName == name }) { return ValueID(i) }
        let id = ValueID(values.count)
        values.append(Value(name: name, type: type, def: .weight(name)))
        return id
    }

    /// Appends a node whose results get the given names and types; returns the result ids.
    @discardableResult
    public mutating func addNode(_ op: String, _ operands: [ValueID?], _ attributes: Attributes = Attributes(),
                                 results: [(String, TensorType)], location: SourceLocation? = nil) -> [ValueID] {
        let nodeIndex = nodes.count
        var ids: [ValueID] = []
        for (k, r) in results.enumerated() {
            ids.append(ValueID(values.count))
            values.append(Value(name: r.0, type: r.1, def: .node(nodeIndex, result: k)))
        }
        // Absent trailing optional operands need not be spelled out: slots are padded to the declaration.
        var slots = operands
        if let decl = OpRegistry.decl(op), !decl.isVariadic, slots.count < decl.operands.count {
            slots += [ValueID?](repeating: nil, count: decl.operands.count - slots.count)
        }
        nodes.append(Node(op: op, operands: slots, attributes: attributes, results: ids, location: location))
        return ids
    }

    /// Drops values no node, input or output refers to and renumbers densely, keeping order.
    /// Passes call it after removing nodes so that equal graphs compare equal.
    public func compacted() -> Graph {
        var used = Set(inputs + outputs)
        for n in nodes { used.formUnion(n.operands.compactMap { $0 }); used.formUnion(n.results) }
        var remap: [Int: ValueID] = [:]
        var g = self
        g.values = []
        // Renumber values in order of first appearance: inputs, then per node operands (weights) and results.
        func visit(_ v: ValueID) {
            guard remap[v.raw] == nil, used.contains(v) else { return }
            remap[v.raw] = ValueID(g.values.count)
            g.values.append(values[v.raw])
        }
        inputs.forEach(visit)
        for n in nodes { n.operands.compactMap { $0 }.forEach(visit); n.results.forEach(visit) }
        outputs.forEach(visit)
        g.inputs = inputs.compactMap { remap[$0.raw] }
        g.outputs = outputs.compactMap { remap[$0.raw] }
        g.nodes = nodes.enumerated().map { (i, n) in
            var m = n
            m.operands = n.operands.map { $0.flatMap { remap[$0.raw] } }
            m.results = n.results.compactMap { remap[$0.raw] }
            return m
        }
        for (i, n) in g.nodes.enumerated() {
            for (k, r) in n.results.enumerated() { g.values[r.raw].def = .node(i, result: k) }
        }
        return g
    }
}
