// libFuzzer harness: .qir text → lexer, parser, lowering, verifier; a model that parses is
// printed and parsed again (the printer must produce valid .qir for any verified graph).
import QEMLIR

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQIR(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let graph = try? QIR.parse(text, file: "fuzz.qir") else { return 0 }
    let printed = QIR.print(graph)
    do {
        _ = try QIR.parse(printed, file: "printed.qir")
    } catch {
        fatalError("a verified graph printed to .qir that does not parse back:\n\(printed)\n\(error)")
    }
    return 0
}
