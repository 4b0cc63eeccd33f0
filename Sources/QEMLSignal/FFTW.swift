import Foundation
internal import CFFTW3
import QEMLTensor

/// Single-precision FFTW behind a thin wrapper: plans are made once per shape and cached for the
/// life of the process, planning is serialized (FFTW's planner is not thread-safe; only
/// `fftwf_execute_*` is), and wisdom is kept in the user's cache folder so `FFTW_MEASURE` is paid
/// once per machine. No FFTW type leaves this file.
final class FFTW: @unchecked Sendable {
    static let shared = FFTW()

    private let lock = NSLock()
    private var realPlans: [RealPlanKey: RealFFTPlan] = [:]
    private var complexPlans: [ComplexPlanKey: ComplexFFTPlan] = [:]
    private var wisdomLoaded = false

    /// `$XDG_CACHE_HOME/qemlc/fftwf-wisdom` or `~/.cache/qemlc/fftwf-wisdom`;
    /// `QEMLC_FFTW_WISDOM=off` disables it.
    static var wisdomURL: URL? {
        let env = ProcessInfo.processInfo.environment
        if env["QEMLC_FFTW_WISDOM"] == "off" { return nil }
        let base: URL
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty {
            base = URL(fileURLWithPath: xdg)
        } else if let home = env["HOME"], !home.isEmpty {
            base = URL(fileURLWithPath: home).appendingPathComponent(".cache")
        } else {
            return nil
        }
        return base.appendingPathComponent("qemlc").appendingPathComponent("fftwf-wisdom")
    }

    /// A batched real-to-complex plan: `howMany` transforms of length `n`. Input frame j starts at
    /// `j * n` floats; output bin f of frame j is the complex number at `f * howMany + j`
    /// (bin-major, so one bin of all frames is contiguous — ready for SIMD across frames).
    func realForward(n: Int, howMany: Int) -> RealFFTPlan {
        let key = RealPlanKey(n: n, howMany: howMany)
        lock.lock()
        defer { lock.unlock() }
        if let p = realPlans[key] { return p }
        loadWisdomLocked()
        let bins = n / 2 + 1
        // FFTW_MEASURE overwrites the arrays it plans on: plan on scratch, execute on the caller's.
        let input = fftwf_alloc_real(n * howMany)!
        let output = fftwf_alloc_complex(bins * howMany)!
        defer { fftwf_free(input); fftwf_free(output) }
        var dims = [Int32(n)]
        let plan = fftwf_plan_many_dft_r2c(
            1, &dims, Int32(howMany),
            input, nil, 1, Int32(n),
            output, nil, Int32(howMany), 1,
            FFTW_MEASURE)!
        saveWisdomLocked()
        let p = RealFFTPlan(plan: plan, n: n, howMany: howMany)
        realPlans[key] = p
        return p
    }

    /// A single complex transform of length `n` (forward or backward, unnormalized).
    func complex(n: Int, forward: Bool) -> ComplexFFTPlan {
        let key = ComplexPlanKey(n: n, forward: forward)
        lock.lock()
        defer { lock.unlock() }
        if let p = complexPlans[key] { return p }
        loadWisdomLocked()
        let a = fftwf_alloc_complex(n)!
        let b = fftwf_alloc_complex(n)!
        defer { fftwf_free(a); fftwf_free(b) }
        // Signal lengths are arbitrary and often seen once: estimate, do not measure.
        let plan = fftwf_plan_dft_1d(Int32(n), a, b, forward ? FFTW_FORWARD : FFTW_BACKWARD, FFTW_ESTIMATE)!
        let p = ComplexFFTPlan(plan: plan, n: n)
        complexPlans[key] = p
        return p
    }

    private func loadWisdomLocked() {
        guard !wisdomLoaded else { return }
        wisdomLoaded = true
        guard let url = FFTW.wisdomURL, FileManager.default.fileExists(atPath: url.path) else { return }
        // A corrupt or foreign file is ignored: FFTW then plans from scratch and rewrites it.
        _ = fftwf_import_wisdom_from_filename(url.path)
    }

    /// Written through the one atomic writer (temporary file, fsync, rename), so a reader never
    /// sees half a file; best effort (a read-only cache just keeps no wisdom).
    private func saveWisdomLocked() {
        guard let url = FFTW.wisdomURL, let text = fftwf_export_wisdom_to_string() else { return }
        defer { free(text) }
        let bytes = Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? writeFileAtomically(bytes, to: url.path, overwrite: true)
    }
}

private struct RealPlanKey: Hashable { var n: Int; var howMany: Int }
private struct ComplexPlanKey: Hashable { var n: Int; var forward: Bool }

/// A cached r2c plan (see `FFTW.realForward`). Executing is thread-safe.
final class RealFFTPlan: @unchecked Sendable {
    private let plan: fftwf_plan
    let n: Int
    let howMany: Int

    fileprivate init(plan: fftwf_plan, n: Int, howMany: Int) {
        self.plan = plan
        self.n = n
        self.howMany = howMany
    }

    /// `input`: n·howMany floats; `output`: 2·(n/2+1)·howMany floats (re, im interleaved), both
    /// from `FFTBuffer` so their alignment matches the planning arrays'.
    func execute(input: FFTBuffer, output: FFTBuffer) {
        precondition(input.count >= n * howMany && output.count >= 2 * (n / 2 + 1) * howMany)
        output.base.withMemoryRebound(to: fftwf_complex.self, capacity: output.count / 2) { out in
            fftwf_execute_dft_r2c(plan, input.base, out)
        }
    }
}

/// A cached c2c plan. Executing is thread-safe.
final class ComplexFFTPlan: @unchecked Sendable {
    private let plan: fftwf_plan
    let n: Int

    fileprivate init(plan: fftwf_plan, n: Int) {
        self.plan = plan
        self.n = n
    }

    /// In and out: 2·n floats (re, im interleaved), distinct buffers (the plan is out-of-place).
    func execute(input: FFTBuffer, output: FFTBuffer) {
        precondition(input.count >= 2 * n && output.count >= 2 * n && input !== output)
        input.base.withMemoryRebound(to: fftwf_complex.self, capacity: n) { i in
            output.base.withMemoryRebound(to: fftwf_complex.self, capacity: n) { o in
                fftwf_execute_dft(plan, i, o)
            }
        }
    }
}

/// Float storage with FFTW's SIMD alignment (fftwf_malloc), zero-filled, freed on deinit.
final class FFTBuffer {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        base = fftwf_alloc_real(max(count, 1))!
        base.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { fftwf_free(base) }
}
