import Foundation

extension TargetDescription {
    /// This machine, as LLVM sees it: triple, CPU name and feature string from LLVM; vector
    /// width, registers and peak from the features; cache sizes from sysfs when readable.
    public static let host: TargetDescription = detectHost()

    static func detectHost() -> TargetDescription {
        let triple = LLVMSupport.hostTriple
        let cpu = LLVMSupport.hostCPU
        let features = LLVMSupport.hostFeatures
        let enabled = Set(features.split(separator: ",").filter { $0.hasPrefix("+") }.map { String($0.dropFirst()) })
        let arch = String(triple.split(separator: "-").first ?? "")
        var width = 4, registers = 16, flops = 8
        if arch == "x86_64" {
            if enabled.contains("avx512f") { width = 16; registers = 32; flops = 64 }
            else if enabled.contains("avx2") && enabled.contains("fma") { width = 8; flops = 32 }
            else if enabled.contains("avx") { width = 8; flops = 16 }
        } else if arch == "aarch64" || arch == "arm64" {
            registers = 32
            flops = 16
        }
        let caches = cacheSizes()
        return TargetDescription(
            name: "host", description: "this machine (\(cpu)), detected through LLVM",
            triple: triple, cpu: cpu, features: features,
            vectorWidth: width, vectorRegisters: registers,
            l1Bytes: caches[1] ?? 32 * 1024, l2Bytes: caches[2] ?? 1024 * 1024, l3Bytes: caches[3] ?? 8 * 1024 * 1024,
            flopsPerCycle: flops, clockGHz: clockGHz())
    }

    /// Data/unified cache sizes per level from `/sys/devices/system/cpu/cpu0/cache`.
    private static func cacheSizes() -> [Int: Int] {
        var out: [Int: Int] = [:]
        for i in 0..<8 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(i)/"
            guard let level = read(dir + "level").flatMap({ Int($0) }), let type = read(dir + "type"),
                  type != "Instruction", let size = read(dir + "size").flatMap(parseSize) else { continue }
            out[level] = size
        }
        return out
    }

    /// The nominal clock from `/proc/cpuinfo` (`cpu MHz`), if available.
    private static func clockGHz() -> Double? {
        guard let info = read("/proc/cpuinfo") else { return nil }
        for line in info.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            if let v = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
                return (v / 1000 * 100).rounded() / 100
            }
        }
        return nil
    }

    private static func read(_ path: String) -> String? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
