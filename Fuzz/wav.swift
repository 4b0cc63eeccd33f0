// libFuzzer harness: bytes → WAVReader.decode (compiled together with the reader files, so
// the harness needs no FFTW).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? WAVReader.decode(Data(bytes: data, count: size), path: "fuzz.wav")
    return 0
}
