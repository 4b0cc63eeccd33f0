import Foundation
import QEMLQuantum

/// A circuit program compiled to a cache-blocked state-vector kernel (`StateVectorSchedule`,
/// `StateVectorGenerator`) for this machine and linked into the process. Each call of `run`
/// uses its own state vector, so calls from several threads are safe.
public final class CompiledStateVector: @unchecked Sendable {
    typealias Stage = @convention(c) (UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?,
                                      UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int64, Int64) -> Void

    public let schedule: StateVectorSchedule
    public let fromCache: Bool
    public let objectSize: Int
    private let stages: [Stage]
    private let linker: AnyObject

    /// Doubles per vector register of the target.
    public static func lanes(for target: TargetDescription) -> Int { max(1, target.vectorWidth / 2) }

    /// Qubits per stage for a target: see `StateVectorSchedule.localQubits(l1Bytes:)`.
    public static func localQubits(for target: TargetDescription) -> Int { StateVectorSchedule.localQubits(l1Bytes: target.l1Bytes) }

    public convenience init(_ program: CircuitProgram, target: TargetDescription = .host, cache: ObjectCache? = .standard,
                            localQubits: Int? = nil, lanes: Int? = nil, name: String = "qemlc_state_vector") throws {
        try self.init(try Self.schedule(program, target: target, localQubits: localQubits, lanes: lanes), target: target, cache: cache, name: name)
    }

    /// The program's schedule for `target` (its vector width and L1 unless given).
    static func schedule(_ program: CircuitProgram, target: TargetDescription, localQubits: Int?, lanes: Int?) throws -> StateVectorSchedule {
        let lanes = lanes ?? Self.lanes(for: target)
        guard let s = StateVectorSchedule(program, lanes: lanes, localQubits: localQubits ?? Self.localQubits(for: target)) else {
            throw CodegenError(.kernel, "circuit: no state-vector schedule for \(lanes)-double vectors (a power of two is needed)")
        }
        return s
    }

    /// Compiles `schedule` (its lanes need not match the target's: LLVM splits or widens vectors).
    public init(_ schedule: StateVectorSchedule, target: TargetDescription = .host, cache: ObjectCache? = .standard,
                name: String = "qemlc_state_vector") throws {
        guard target.runsOnHost else {
            throw CodegenError(.jit, "target '\(target.name)' (\(target.triple)) cannot run on this \(TargetDescription.host.architecture) host")
        }
        let s = schedule
        self.schedule = s
        let (m, machine, generator) = try Self.module(s, target: target, name: name)
        let object = try ObjectBuilder(target: target, cache: cache, pipeline: KernelCompiler.defaultPipeline).object(m, machine)
        let jit = try JITLinker()
        try jit.addObject(object.bytes, name: name)
        stages = try (0..<s.stages.count).map { i in
            unsafeBitCast(UnsafeRawPointer(bitPattern: try jit.address(of: generator.stageSymbol(i))), to: Stage.self)
        }
        linker = jit
        fromCache = object.fromCache
        objectSize = object.bytes.count
    }

    /// The schedule's stage functions in one verified module for `target`.
    static func module(_ s: StateVectorSchedule, target: TargetDescription, name: String) throws -> (IRModule, TargetMachine, StateVectorGenerator) {
        let machine = try TargetMachine(triple: target.triple, cpu: target.cpu, features: target.features)
        let m = IRModule(name: name)
        let generator = StateVectorGenerator(schedule: s, m: m, name: name)
        generator.emit()
        machine.configure(m)
        try m.verify()
        return (m, machine, generator)
    }

    /// The optimized LLVM IR of a schedule's stage functions.
    public static func llvmIR(_ s: StateVectorSchedule, target: TargetDescription = .host) throws -> String {
        let (m, machine, _) = try module(s, target: target, name: "qemlc_state_vector")
        try machine.optimize(m, pipeline: KernelCompiler.defaultPipeline)
        return m.text
    }

    /// The optimized assembly of a schedule's stage functions.
    public static func assembly(_ s: StateVectorSchedule, target: TargetDescription = .host) throws -> String {
        let (m, machine, _) = try module(s, target: target, name: "qemlc_state_vector")
        try machine.optimize(m, pipeline: KernelCompiler.defaultPipeline)
        return String(decoding: try machine.emit(m, .assembly), as: UTF8.self)
    }

    /// The optimized assembly of the stage functions (the debug ladder's last rung).
    public static func assembly(_ program: CircuitProgram, target: TargetDescription = .host, localQubits: Int? = nil) throws -> String {
        try assembly(try schedule(program, target: target, localQubits: localQubits, lanes: nil), target: target)
    }

    /// Evaluates `batch` input rows (row-major [batch, inputWidth]) → [batch, outputWidth] on
    /// this thread.
    public func run(inputs: [Double], batch: Int) -> [Double] {
        run(inputs: inputs, batch: batch, parts: 1) { work in work(0) }
    }

    /// Evaluates `batch` input rows with every stage's chunks split into `parts` ranges: `dispatch`
    /// must call its argument once for each part in 0..<parts (on any threads) and return when all
    /// are done. Each part has its own buffer and its range is fixed by its number, so results do
    /// not depend on `parts` or on which thread ran what.
    public func run(inputs: [Double], batch: Int, parts: Int, dispatch: (_ work: @escaping @Sendable (Int) -> Void) -> Void) -> [Double] {
        let s = schedule
        let parts = max(1, parts)
        let w = workspaces.take(parts: parts) ?? Workspace(s, parts: parts)
        defer { workspaces.put(w) }
        // The state moves out of the workspace for the call (no copy, no shared access).
        var state = StateVector(qubits: 1)
        swap(&state, &w.state)
        defer { swap(&state, &w.state) }
        var out: [Double] = []
        out.reserveCapacity(batch * s.outputWidth)
        inputs.withUnsafeBufferPointer { all in
            for sample in 0..<batch {
                let row = UnsafeBufferPointer(rebasing: all[(sample * s.inputWidth)..<((sample + 1) * s.inputWidth)])
                state.reset()
                s.fillCoefficients(row, into: w.coefficients, scratch: w.fillScratch)
                state.re.withUnsafeMutableBufferPointer { re in
                    state.im.withUnsafeMutableBufferPointer { im in
                        let shared = StageArguments(re: re.baseAddress, im: im.baseAddress, coefficients: w.coefficients, buffers: w.buffers)
                        for (i, stage) in stages.enumerated() {
                            let chunks = s.stages[i].chunks(qubits: s.qubits)
                            if parts == 1 || chunks < parts {
                                stage(shared.re, shared.im, shared.coefficients, shared.buffers[0], 0, Int64(chunks))
                                continue
                            }
                            dispatch { p in
                                stage(shared.re, shared.im, shared.coefficients, shared.buffers[p],
                                      Int64(chunks * p / parts), Int64(chunks * (p + 1) / parts))
                            }
                        }
                    }
                }
                state.measure(s.measurements, into: &out)
            }
        }
        return out
    }

    /// What every part of a stage reads: raw pointers, valid for the stage call.
    private struct StageArguments: @unchecked Sendable {
        // @unchecked: parts write disjoint chunks of the state and only their own buffer.
        let re: UnsafeMutablePointer<Double>?, im: UnsafeMutablePointer<Double>?
        let coefficients: UnsafeMutablePointer<Double>
        let buffers: [UnsafeMutablePointer<Double>]
    }

    /// One evaluation's memory (state vector, coefficients, a stage buffer per part), kept for the
    /// next call: at 20 qubits the state is 32 MB, and fresh pages cost more than a short circuit.
    private final class Workspace {
        var state: StateVector
        let coefficients: UnsafeMutablePointer<Double>
        let buffers: [UnsafeMutablePointer<Double>]
        let fillScratch: UnsafeMutablePointer<Complex>

        init(_ s: StateVectorSchedule, parts: Int) {
            state = StateVector(qubits: s.qubits)
            let coefficientCount = max(2, 2 * s.coefficientCount), scratchCount = max(1, s.fillScratchCount)
            let bufferSize = s.stages.allSatisfy(\.isContiguous) ? 8 : 2 << s.localQubits
            coefficients = .allocate(capacity: coefficientCount)
            coefficients.initialize(repeating: 0, count: coefficientCount)
            buffers = (0..<parts).map { _ in
                let b = UnsafeMutablePointer<Double>.allocate(capacity: bufferSize)
                b.initialize(repeating: 0, count: bufferSize)
                return b
            }
            fillScratch = .allocate(capacity: scratchCount)
            fillScratch.initialize(repeating: .zero, count: scratchCount)
        }

        deinit {
            coefficients.deallocate()
            buffers.forEach { $0.deallocate() }
            fillScratch.deallocate()
        }
    }

    private let workspaces = WorkspacePool()

    private final class WorkspacePool: @unchecked Sendable {
        private let lock = NSLock()
        private var free: [Workspace] = []
        /// A free workspace with buffers for at least `parts` parts.
        func take(parts: Int) -> Workspace? {
            lock.withLock {
                guard let i = free.lastIndex(where: { $0.buffers.count >= parts }) else { return nil }
                return free.remove(at: i)
            }
        }
        func put(_ w: Workspace) { lock.withLock { free.append(w) } }
    }
}
