import ArgumentParser
import Foundation
import QEMLCodegen

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or empty the compile cache (compiled objects and packed weights).",
        discussion: """
            The cache lives in $XDG_CACHE_HOME/qemlc (else ~/.cache/qemlc). Entries used least \
            recently are deleted once it holds more than QEMLC_CACHE_MAX bytes (default 2G; \
            accepts e.g. 500M, 2G).
            """,
        subcommands: [Info.self, Clear.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where the cache is, its entries, their sizes and how often they were hit.")

        func run() throws {
            let folder = ObjectCache.standard.folder
            let limit = try cacheLimit()
            let entries = folder.entries()
            let usage = folder.usage()
            print("location: \(folder.directory.path)")
            print("size cap: \(humanBytes(limit))" + (ProcessInfo.processInfo.environment["QEMLC_CACHE_MAX"].map { " (QEMLC_CACHE_MAX=\($0))" } ?? " (default; set QEMLC_CACHE_MAX to change)"))
            var t = TextTable(["kind", "entries", "size", "hits", "misses"], rightAligned: [1, 2, 3, 4])
            for kind in CacheFolder.Kind.allCases {
                let mine = entries.filter { $0.kind == kind }
                let u = usage[kind] ?? (0, 0)
                t.add([kind.title, String(mine.count), humanBytes(mine.reduce(0) { $0 + $1.bytes }), String(u.hits), String(u.misses)])
            }
            t.add(["total", String(entries.count), humanBytes(entries.reduce(0) { $0 + $1.bytes }), "", ""])
            print(t.render())
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every cache entry (the next compile rebuilds what it needs).")

        func run() throws {
            let folder = ObjectCache.standard.folder
            let gone = folder.clear()
            print("deleted \(gone.count == 1 ? "1 entry" : "\(gone.count) entries") (\(humanBytes(gone.reduce(0) { $0 + $1.bytes }))) from \(folder.directory.path)")
        }
    }
}

/// The cache's size cap, or a user error naming QEMLC_CACHE_MAX.
func cacheLimit() throws -> Int {
    do { return try CacheFolder.limit() } catch let e as CodegenError {
        throw UserError(e.message, fix: "unset QEMLC_CACHE_MAX or give a size such as QEMLC_CACHE_MAX=2G")
    }
}
