/// The kernel ABI (every generated kernel has this C signature):
///
///     void name(float *const *buffers, const float *params, int64_t begin, int64_t end);
///
/// - `buffers`: the activation buffers, in the order of `KernelDefinition.buffers` (inputs first,
///   then outputs). Every activation is in the blocked NCHWc layout (c = the target's vector
///   width) with channels padded to a multiple of c and padded lanes zero; a rank-2 `[N,K]`
///   value is `[N,K,1,1]`, i.e. `[N][⌈K/c⌉·c]`. Kernels write zeros into padded lanes.
/// - `params`: the kernel's packed constants (`KernelDefinition.params`: weights packed at
///   compile time, folded bias), 64-byte aligned; `CompiledKernel` passes its own copy.
/// - `[begin, end)`: a range of work items, `0 ≤ begin ≤ end ≤ batch · itemsPerSample`. Items
///   are independent (no two write the same memory), so the executor may split the range
///   across threads in any way.
public struct KernelDefinition: Sendable {
    public enum Role: String, Sendable { case input, output }

    /// How a buffer's floats are arranged.
    public enum Layout: String, Sendable {
        /// NCHWc with channels padded to the vector width, padded lanes zero (the default).
        case blocked
        /// Plain NCHW (only the layout-conversion kernels' outside-facing buffer).
        case plain
    }

    /// One activation buffer of the kernel.
    public struct Buffer: Sendable, Equatable {
        public var name: String
        public var role: Role
        /// The logical per-sample shape `[C, H, W]` (NCHW without the batch).
        public var shape: [Int]
        /// Elements per sample as stored (blocked: channels padded).
        public var elementsPerSample: Int
        public var layout: Layout
        public var element: ElementType = .f32

        public init(name: String, role: Role, shape: [Int], elementsPerSample: Int, layout: Layout = .blocked, element: ElementType = .f32) {
            self.name = name
            self.role = role
            self.shape = shape
            self.elementsPerSample = elementsPerSample
            self.layout = layout
            self.element = element
        }

        public var bytesPerSample: Int { elementsPerSample * element.bytes }

        /// A blocked buffer of a `[C, H, W]` tensor.
        static func blocked(_ name: String, _ role: Role, _ shape: [Int], lanes: Int) -> Buffer {
            Buffer(name: name, role: role, shape: shape, elementsPerSample: blockedCount(shape[0], shape[1], shape[2], lanes: lanes))
        }
    }

    /// The symbol name (unique within one compiled module).
    public var name: String
    /// The op it implements (`conv2d`, `maxpool2d`, …).
    public var kind: String
    /// Shapes and fused steps, for reports: `conv2d 3x3/s1 64→64 56x56 +bias+relu`.
    public var summary: String
    public var buffers: [Buffer]
    public var itemsPerSample: Int
    public var flopsPerSample: Int
    /// The vector width `c` of the blocked layout this kernel was generated for.
    public var lanes: Int
    /// Packed constants, passed as `params`.
    public var params: [Float]
    let body: KernelBody

    public var inputs: [Buffer] { buffers.filter { $0.role == .input } }
    public var outputs: [Buffer] { buffers.filter { $0.role == .output } }
}

/// What one element of an activation buffer is: f32, or a u7 activation of an int8 op
/// (one byte, 0…127; the buffer is still passed as `float*`).
public enum ElementType: String, Hashable, Sendable {
    case f32, u8
    public var bytes: Int { self == .f32 ? 4 : 1 }
}

/// What a kernel computes, in enough detail to generate it.
enum KernelBody: Sendable {
    case conv2d(ConvPlan)
    case layout(LayoutSpec)
    case pool(PoolSpec)
    case globalPool(GlobalPoolSpec)
    case channelReduce(ChannelReduceSpec)
    case elementwise(ElementwiseSpec)
    case dense(DenseSpec)
    case softmax(SoftmaxSpec)
    case cbamGate(CBAMGateSpec)
    case cbamReduce(CBAMReduceSpec)
    case cbamApply(CBAMApplySpec)
    case foldedCircuit(FoldedCircuitSpec)
    case fmaProbe(FMAProbeSpec)
    case quantize(QuantizeSpec)
    case winogradInput(WinogradInputSpec)
    case winogradGEMM(WinogradGEMMSpec)
    case winogradOutput(WinogradOutputSpec)
}

/// An activation fused at the end of a kernel.
public enum Activation: String, Hashable, Sendable, CaseIterable {
    case none, relu, sigmoid, tanh
}

/// Floats of a blocked `[C, H, W]` tensor: `⌈C/c⌉ · H · W · c`.
func blockedCount(_ c: Int, _ h: Int, _ w: Int, lanes: Int) -> Int { (c + lanes - 1) / lanes * h * w * lanes }
func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
