// libFuzzer harness: bytes → NPY.decode (header dictionary, dtype, shape, data size).
import QEMLTensor

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? NPY.decode(UnsafeRawBufferPointer(start: data, count: size), path: "fuzz.npy")
    return 0
}
