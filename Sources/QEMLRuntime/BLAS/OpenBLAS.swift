internal import COpenBLAS

/// The few OpenBLAS calls the `blas` backend makes, behind Swift names.
enum OpenBLAS {
    /// Pins OpenBLAS's own thread pool (the `--threads` of a run).
    static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    static var threads: Int { Int(openblas_get_num_threads()) }

    static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// Row-major `C[m,n] = A[m,k] · B[k,n]`.
    static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
    }
}

/// What the `blas` backend runs on, for benchmark reports.
public enum BLASInfo {
    /// OpenBLAS's kernel set (`Haswell`, `SkylakeX`, …; `Prescott` means it misread the CPU).
    public static var coreName: String { OpenBLAS.coreName }
}
