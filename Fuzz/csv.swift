// libFuzzer harness: text → CSVReader.parse, with every column, by index and by header name.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for column in [nil, "0", "1", "-1", "x"] as [String?] {
        _ = try? CSVReader.parse(text, path: "fuzz.csv", column: column)
    }
    return 0
}
