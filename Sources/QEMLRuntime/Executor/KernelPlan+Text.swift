import QEMLCodegen

extension KernelPlan {
    /// The plan as text (`qemlc dump --after plan`, golden tests under `ir/passes/plan/`): the
    /// arena, every slot (value or scratch: element type f32 or u8, layout, size per sample, offset) and
    /// every step (what runs it — a generated kernel, a circuit evaluator or the reference
    /// interpreter with the reason — its slots, packed weights and how its work splits over
    /// threads). Offsets are floats per sample; a batch of B scales them by B.
    public var text: String {
        var out: [String] = []
        let generated = steps.filter { if case .kernel = $0.action { return true }; return false }.count
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        out.append("# kernel plan: \(count(steps.count, "step")) (\(count(generated, "generated kernel")), "
                   + "\(count(definitions.count, "distinct function"))), target \(target.name) (\(target.vectorWidth) f32 lanes)")
        out.append("arena \(arenaBytesPerSample) bytes per sample (one buffer per value: \(naiveBytesPerSample) bytes); "
                   + "slot offsets @ in floats per sample, × batch")
        let inputSlots = Set(inputs.map(\.slot)), outputSlots = Set(outputs.map(\.slot))
        for (k, s) in slots.enumerated() {
            let live = layout.offsets.indices.contains(k) && isLive(k)
            let role = inputSlots.contains(k) ? " input" : outputSlots.contains(k) ? " output" : ""
            let place = live ? "@\(layout.offsets[k])" : "unused"
            // u8 codes of an int8 op: bytes, in 4-byte words of the arena.
            let size = s.storage.element == .f32 ? "\(s.floatsPerSample) floats"
                : "\(s.storage.elementsPerSample) bytes (\(s.floatsPerSample) floats)"
            out.append("slot s\(k) %\(s.name): \(s.storage.element.rawValue)[\(s.storage.shape.map(String.init).joined(separator: ","))] "
                       + "nchw\(s.storage.lanes)c, \(size) \(place)\(role)")
        }
        for (i, s) in steps.enumerated() {
            let operands = s.slots.map { "s\($0)" }.joined(separator: ", ")
            var line = "step \(i) %\(s.node): "
            switch s.action {
            case .kernel(let k):
                let d = definitions[k]
                line += "generated \(d.name) [\(d.kind)] (\(operands)); \(s.summary)"
                if !s.params.isEmpty { line += "; packed weights \(s.params.count) floats" }
                line += "; threads split \(d.itemsPerSample) item\(d.itemsPerSample == 1 ? "" : "s") per sample"
            case .blas:
                line += "OpenBLAS im2col + sgemm (\(operands)); \(s.summary); threads: OpenBLAS's"
            case .circuit(let e, _):
                let what = e.compiled != nil ? "generated state-vector kernel"
                    : e.plan.schedule != nil ? "state-vector kernel (compiled when the model is linked for this machine)"
                    : "Swift evaluator (\(e.plan.reason))"
                line += "circuit on the \(what) (\(operands)); \(e.summary); threads split samples"
            case .fallback:
                line += "reference interpreter (\(s.reason ?? "no generated kernel")) (\(operands)); one thread"
            }
            out.append(line)
        }
        out.append("inputs " + inputs.map { "%\($0.name) s\($0.slot)" }.joined(separator: ", ")
                   + "; outputs " + outputs.map { "%\($0.name) s\($0.slot)" }.joined(separator: ", "))
        return out.joined(separator: "\n") + "\n"
    }

    private func isLive(_ slot: Int) -> Bool {
        inputs.contains { $0.slot == slot } || outputs.contains { $0.slot == slot } || steps.contains { $0.slots.contains(slot) }
    }
}
