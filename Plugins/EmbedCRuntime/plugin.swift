import Foundation
import PackagePlugin

/// Embeds the fixed C runtime (`Export/C/*.c|h` of the target) into the target as a generated
/// Swift source, so the built qemlc carries the files and needs no source tree at run time.
/// A build command (not a prebuild one): it reruns only when a C file changes.
@main
struct EmbedCRuntime: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SwiftSourceModuleTarget else { return [] }
        let folder = target.directoryURL.appending(path: "Export/C")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { ["c", "h"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedCRuntime.swift")
        return [.buildCommand(displayName: "Embedding the C runtime (\(files.count) files)",
                              executable: try context.tool(named: "EmbedFiles").url,
                              arguments: [output.path] + files.map(\.path),
                              inputFiles: files, outputFiles: [output])]
    }
}
