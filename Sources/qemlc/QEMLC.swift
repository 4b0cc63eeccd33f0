import ArgumentParser
import Foundation
import QEMLIR
import QEMLSignal
import QEMLTensor

@main
struct QEMLC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qemlc",
        abstract: "Compile QEML-Net models (ResNet + CBAM + quantum circuit) into fast CPU code.",
        discussion: """
            A model is a .qir file (see ir/LANGUAGE.md). Typical use:
              qemlc check model.qir                  layers, parameters, FLOPs
              qemlc init-weights model.qir -o w.safetensors
              qemlc run model.qir --weights w.safetensors --input signal.wav
              qemlc compile model.qir                what was fused, what it costs
              qemlc bench model.qir                  latency per kernel, end to end
              qemlc dump model.qir --after fuse-cbam the IR after any pass
            """,
        version: qemlcVersion,
        subcommands: commands)

    /// Runs a command; errors about the user's input print as diagnostics (no "Error:" noise,
    /// no backtrace) and exit 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as DiagnosticList {
            // A file that is not .qir at all yields an error per line: the first ones say it.
            let shown = DiagnosticList(Array(error.diagnostics.prefix(maximumDiagnostics)))
            let more = error.diagnostics.count - shown.diagnostics.count
            report(shown.description + (more > 0 ? "\n… and \(more) more error\(more == 1 ? "" : "s") (the first \(maximumDiagnostics) are shown)" : ""))
        } catch let error as Diagnostic {
            report(error.description)
        } catch let error as ExplainedError {
            // Every qemlc error type (user, file format, signal, circuit, codegen, pass, plan,
            // export, quantization): one message-plus-fix shape.
            report(error.rendered)
        } catch {
            exit(withError: error)
        }
    }

    /// Diagnostics printed before the rest are only counted.
    static let maximumDiagnostics = 20

    static func report(_ text: String) -> Never {
        FileHandle.standardError.write(Data((text + "\n").utf8))
        Foundation.exit(1)
    }
}

let qemlcVersion = "0.1.0"

/// A mistake in how qemlc was called that no parser reports (a missing file, a name that is
/// not in the model): what is wrong and how to fix it.
struct UserError: ExplainedError {
    var message: String
    var fix: String?
    init(_ message: String, fix: String? = nil) {
        self.message = message
        self.fix = fix
    }
    var description: String { explanation }
}
