/// The graph pass pipeline, as data: the CLI (`compile`, `dump --after`), the tests and the dumps
/// all read this one list. After it, the graph is lowered to the kernel plan (QEMLRuntime's
/// `KernelPlan`: one step per kernel, its layout and slots), and memory is planned on that plan
/// (`ArenaLayout`, the arena that runs) — `qemlc dump --after plan` prints the result. An entry whose pass is nil is named but not built yet; the pass manager
/// skips it and says so.
public enum Pipeline {
    public struct Entry: Sendable {
        public var name: String
        /// Why the pass is here, in one line.
        public var why: String
        public var pass: (any Pass)?

        public init(_ name: String, why: String, _ pass: (any Pass)?) {
            self.name = name
            self.why = why
            self.pass = pass
        }
    }

    public static let entries: [Entry] = [
        Entry("verify", why: "catch a malformed graph before rewriting it", VerifyPass()),
        Entry("fold-batchnorm", why: "BatchNorm after a conv is an affine map: fold it into the conv's weights at packing time",
              FoldBatchNorm()),
        Entry("fuse-conv-epilogue", why: "add the residual and apply ReLU while the conv's output is still in registers",
              FuseConvEpilogue()),
        Entry("fuse-cbam", why: "pool inside the producing conv and run the attention block in few passes over memory",
              FuseCBAM()),
        Entry("quantize", why: "a reduced-precision weights file runs its convs and dense layers in int8 or bf16 (docs/QUANTIZATION.md)",
              QuantizePass()),
        Entry("fuse-quantum", why: "fold the input-independent gates of the circuit into fixed unitaries or observables",
              FuseQuantum()),
        Entry("layout", why: "NCHWc blocked activations match the vector width; convert only at the edges",
              LayoutPass()),
    ]
}
