/// The generated parts of `ir/LANGUAGE.md`: the op reference and the frontend settings, read
/// from the declarations so the document cannot drift from the code (a test compares them).
public enum LanguageReference {
    /// Shape rules in words, per base op (the rule itself is the declaration's `infer`).
    static let shapeRules: [String: String] = [
        "conv2d": "input [N,C,H,W] → [N,out,H′,W′] with H′ = ⌊(H + 2·padding − dilation·(kernel−1) − 1) / stride⌋ + 1 (same for W); "
            + "weight [out, C/groups, kh, kw]; bias and bn_* [out]; residual must equal the output; `pool=\"avgmax\"` adds two results [N,out,1,1] (the mean and max of each output channel over H×W); "
            + "`precision`, `input_scale`, `output_scale` and weight_scale [out] are set by the quantize pass (docs/QUANTIZATION.md)",
        "batchnorm": "input [N,C,…] → same; weight, bias, mean, var [C]",
        "relu": "same shape as the input",
        "sigmoid": "same shape as the input",
        "tanh": "same shape as the input",
        "add": "NumPy broadcasting of the two operands",
        "mul": "NumPy broadcasting of the two operands",
        "scale": "same shape as the input",
        "maxpool2d": "[N,C,H,W] → [N,C,H′,W′], PyTorch's rule (floor, or ceil with ceil_mode); stride defaults to kernel; padding ≤ kernel/2",
        "avgpool2d": "[N,C,H,W] → [N,C,H′,W′], PyTorch's rule (floor, or ceil with ceil_mode); stride defaults to kernel; padding ≤ kernel/2",
        "global_avgpool": "[N,C,H,W] → [N,C,1,1]",
        "global_maxpool": "[N,C,H,W] → [N,C,1,1]",
        "channel_mean": "[N,C,H,W] → [N,1,H,W]",
        "channel_max": "[N,C,H,W] → [N,1,H,W]",
        "concat": "inputs equal except along `axis`, which adds up (it must be fixed)",
        "flatten": "[N, d1, d2, …] → [N, d1·d2·…]; only N may be symbolic",
        "dense": "input [N,K] → [N,out]; weight [out,K] (PyTorch Linear layout); bias and weight_scale [out]; precision as for conv2d",
        "softmax": "same shape as the input",
        "fused_cbam": "input [N,C,H,W] → same; avg and max [N,C,1,1] (the producing conv's `pool=\"avgmax\"` results); fc1 [hidden,C,1,1], fc2 [C,hidden,1,1], spatial [1,2,kernel,kernel]; residual equals the input; `precision` is how the MLP's weights are stored (the quantize pass; int8 with fc1_scale [hidden] and fc2_scale [C], one scale per output row). Created by the fuse-cbam pass",
        "reorder": "same logical shape as the input; only the physical layout changes (`nchw` ↔ `nchw<c>c`). Created by the layout pass",
        "circuit": "input [N,k] → [N,m] with m = number of measured values (1 per expval, 2^|wires| per probs); "
            + "each weight operand's shape is 1 + the largest index the body reads it at, per axis",
    ]

    /// Markdown for every op in `decls`.
    public static func ops(_ decls: [OpDecl] = OpRegistry.all) -> String {
        var out = ""
        for d in decls {
            out += "### `\(d.name)`\n\n\(d.summary).\n\n```\n\(d.example)\n```\n\n"
            let positional = d.operands.filter { !$0.optional }
            let optional = d.operands.filter(\.optional)
            out += "- operands: " + positional.map { $0.variadic ? "`\($0.name)…` (any number)" : "`\($0.name)`" }.joined(separator: ", ")
            if !optional.isEmpty { out += "; optional, by keyword: " + optional.map { "`\($0.name)=`" }.joined(separator: ", ") }
            out += "\n"
            let attrs = d.attributes.filter { $0.kind != .circuit }
            if attrs.isEmpty {
                out += "- attributes: none\n"
            } else {
                out += "- attributes:\n"
                for a in attrs {
                    let def = a.defaultValue.map { "default `\($0)`" } ?? (a.optional ? "optional" : "required")
                    out += "  - `\(a.name)`: \(a.kind), \(def)\n"
                }
            }
            if d.attributes.contains(where: { $0.kind == .circuit }) { out += "- body: a circuit `{ … }` (see Circuits)\n" }
            out += "- shape: " + (shapeRules[d.name] ?? "see the declaration") + "\n\n"
        }
        return out
    }

    /// Markdown table of the `frontend` settings.
    public static func frontendKeys() -> String {
        var out = "| setting | kind | default | meaning |\n|---|---|---|---|\n"
        for k in FrontendSpec.keys {
            out += "| `\(k.name)` | \(k.kind) | \(k.defaultValue.map { "`\($0)`" } ?? "—") | \(k.summary) |\n"
        }
        return out
    }
}
