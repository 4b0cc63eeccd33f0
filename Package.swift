// swift-tools-version:6.0
import PackageDescription
import Foundation

// LLVM ships no pkg-config file on Debian: ask llvm-config (QEMLC_LLVM_CONFIG overrides),
// so LLVM 14 here and any newer LLVM elsewhere are found the same way.
func llvmConfig(_ flag: String) -> String? {
    let env = ProcessInfo.processInfo.environment
    var candidates = [env["QEMLC_LLVM_CONFIG"], "/usr/bin/llvm-config"].compactMap { $0 }
    for v in (14...30).reversed() { candidates.append("/usr/lib/llvm-\(v)/bin/llvm-config") }
    for path in candidates where FileManager.default.isExecutableFile(atPath: path) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = [flag]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = Pipe()
        guard (try? p.run()) != nil else { continue }
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if p.terminationStatus == 0, !out.isEmpty { return out }
    }
    return nil
}
let llvmInclude = llvmConfig("--includedir") ?? "/usr/lib/llvm-14/include"
let llvmLibDir = llvmConfig("--libdir") ?? "/usr/lib/llvm-14/lib"
let llvmMajor = (llvmConfig("--version") ?? "14").split(separator: ".").first.map(String.init) ?? "14"
let llvmC: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(llvmInclude)"])]

let package = Package(
    name: "qemlc",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "qemlc", targets: ["qemlc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, each behind a thin Swift wrapper.
        .systemLibrary(name: "CFFTW3", path: "Sources/CFFTW3"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .target(
            name: "CLLVM", path: "Sources/CLLVM",
            cSettings: [.unsafeFlags(["-I\(llvmInclude)"])],
            linkerSettings: [.unsafeFlags(["-L\(llvmLibDir)", "-Xlinker", "-rpath", "-Xlinker", llvmLibDir]),
                             .linkedLibrary("LLVM-\(llvmMajor)")]),

        // The pipeline, in order.
        .target(name: "QEMLTensor"),
        .target(name: "QEMLIR", dependencies: ["QEMLTensor"]),
        .target(name: "QEMLQuantum", dependencies: ["QEMLIR"]),
        .target(name: "CQEMLSignalKernels", path: "Sources/CQEMLSignalKernels"),  // the STFT's framing + epilogue in AVX2, run-time dispatched
        .target(name: "QEMLSignal", dependencies: ["QEMLIR", "QEMLTensor", "CFFTW3", "CQEMLSignalKernels"]),
        .target(name: "QEMLPasses", dependencies: ["QEMLIR", "QEMLQuantum", "QEMLTensor"]),
        .target(name: "QEMLCodegen", dependencies: ["QEMLIR", "QEMLPasses", "QEMLQuantum", "QEMLTensor", "CLLVM"],
                swiftSettings: llvmC),
        .target(name: "QEMLRuntime",
                dependencies: ["QEMLIR", "QEMLTensor", "QEMLQuantum", "QEMLSignal", "QEMLPasses", "QEMLCodegen", "COpenBLAS"],
                exclude: ["Export/C"],  // the exported runtime's fixed C files: embedded by the plugin, not compiled here
                swiftSettings: llvmC,
                plugins: ["EmbedCRuntime"]),
        // Turns Sources/QEMLRuntime/Export/C into Swift at build time, so an installed qemlc needs no source tree.
        .executableTarget(name: "EmbedFiles", path: "Tools/EmbedFiles"),
        .plugin(name: "EmbedCRuntime", capability: .buildTool(), dependencies: ["EmbedFiles"]),
        .executableTarget(
            name: "qemlc",
            dependencies: ["QEMLIR", "QEMLTensor", "QEMLQuantum", "QEMLSignal", "QEMLPasses", "QEMLCodegen", "QEMLRuntime",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: llvmC),

        // Helpers the test targets share (running programs); no XCTest, so `swift build` builds it too.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "QEMLTensorTests", dependencies: ["QEMLTensor"], exclude: ["Fixtures"]),
        .testTarget(name: "QEMLIRTests", dependencies: ["QEMLIR", "QEMLTensor"], exclude: ["Fixtures"]),
        .testTarget(name: "QEMLQuantumTests", dependencies: ["QEMLQuantum", "QEMLIR", "QEMLTensor", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "QEMLSignalTests", dependencies: ["QEMLSignal", "QEMLIR", "QEMLTensor", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "QEMLPassesTests", dependencies: ["QEMLPasses", "QEMLIR", "QEMLTensor", "QEMLRuntime", "QEMLCodegen", "TestSupport"],
                    swiftSettings: llvmC),
        .testTarget(name: "QEMLCodegenTests", dependencies: ["QEMLCodegen", "QEMLRuntime", "QEMLIR", "QEMLTensor", "TestSupport"],
                    swiftSettings: llvmC),
        .testTarget(name: "QEMLRuntimeTests", dependencies: ["QEMLRuntime", "QEMLIR", "QEMLTensor", "QEMLQuantum", "QEMLSignal", "TestSupport"], exclude: ["Fixtures"],
                    swiftSettings: llvmC),
        .testTarget(name: "qemlcTests", dependencies: ["qemlc", "TestSupport"]),
        .testTarget(name: "RobustnessTests",
                    dependencies: ["QEMLIR", "QEMLTensor", "QEMLSignal", "QEMLQuantum", "QEMLPasses", "QEMLCodegen", "QEMLRuntime", "qemlc",
                                   "TestSupport"],
                    swiftSettings: llvmC),
    ]
)
