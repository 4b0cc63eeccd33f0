// libFuzzer harness: bytes → a file → Safetensors.read (the reader memory-maps a path, so each
// input is written to one scratch file per process, in /dev/shm when it exists).
import Foundation
import QEMLTensor

let scratch: String = {
    let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(dir)/qemlc-fuzz-\(getpid()).safetensors"
}()

/// libFuzzer ends with exit(): the scratch file goes with it.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    atexit { _ = unlink(scratch) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes: data, count: size)) else { return 0 }
    _ = try? Safetensors.read(path: scratch)
    if let file = try? SafetensorsFile(path: scratch) {
        for e in file.entries { _ = try? file.tensor(e.name) }
    }
    return 0
}
