import Foundation

/// The fixed C files of every export (`Export/C/`: the API, the runtime, the front end, the
/// circuit evaluator, `main.c`), byte for byte. The `EmbedCRuntime` build plugin turns the
/// folder into `EmbeddedCRuntime.files` (base64, so any byte survives) when qemlc is built, so
/// an installed qemlc needs no source tree; tests compile the folder itself and check that the
/// exported copies are identical.
public enum CRuntimeFiles {
    public static let files: [ExportFile] = EmbeddedCRuntime.files.map { name, base64 in
        ExportFile(name: name, bytes: Data(base64Encoded: base64).map { Array($0) } ?? [])
    }

    public static var names: [String] { files.map(\.name) }
}
