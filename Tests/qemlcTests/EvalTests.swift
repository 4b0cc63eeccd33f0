import Foundation
import XCTest

/// `qemlc eval` and `qemlc synth --dataset` from the command line: the shipped tiny model on a
/// freshly synthesized held-out set, and every refusal with its words and exit code.
final class EvalTests: CommandLineTestCase {
    static let labels = ["healthy", "inner_race", "outer_race", "ball", "cage", "inner_outer", "misalignment", "unbalance"]

    /// The shipped weights diagnose recordings they never saw: other seeds, and shaft speeds
    /// partly outside the training range (1500–1800 rpm), SNR −5…20 dB.
    func testShippedTinyModelDiagnosesAHeldOutSet() throws {
        let data = path("held-out")
        let synth = try qemlc("synth", "--dataset", data, "--per-class", "50", "--seed", "2027", "--rpm", "1450:1850")
        XCTAssertEqual(synth.status, 0, synth.stderr)
        XCTAssertTrue(synth.stdout.contains("wrote 400 recordings (8 classes × 50"), synth.stdout)
        let manifest = try String(contentsOfFile: data + "/manifest.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(manifest.first, "path,label,rpm,snr_db,sample_rate,load,bearing,seed,resonance_hz,damping,severity,slip")
        XCTAssertEqual(manifest.count, 401)

        let r = try qemlc("eval", "examples/qemlnet-tiny.qir", data, "--weights", "examples/qemlnet-tiny.safetensors", "--json",
                          "--by", "snr_db:-5,0,10,20", "--plot", path("confusion.png"), "--predictions", path("predictions.csv"))
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(json["count"] as? Int, 400)
        XCTAssertEqual(json["labels"] as? [String], Self.labels)
        let accuracy = try XCTUnwrap(json["accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "accuracy of the shipped tiny model on a held-out set")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(json["macro_f1"] as? Double), 0.95)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(json["auc"] as? Double), 0.98)
        let confusion = try XCTUnwrap(json["confusion"] as? [[Int]])
        XCTAssertEqual(confusion.map { $0.reduce(0, +) }, Array(repeating: 50, count: 8), "50 recordings of every class")
        let perClass = try XCTUnwrap(json["per_class"] as? [String: [String: Any]])
        XCTAssertEqual(Set(perClass.keys), Set(Self.labels))
        let groups = try XCTUnwrap((json["by"] as? [String: Any])?["groups"] as? [[String: Any]])
        XCTAssertEqual(groups.compactMap { $0["count"] as? Int }.reduce(0, +), 400)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("confusion.png"))).prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))
        let rows = try String(contentsOfFile: path("predictions.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 401)
        XCTAssertEqual(rows.first, "path,label,predicted," + Self.labels.map { "p_" + $0 }.joined(separator: ","))
        let right = rows.dropFirst().filter { $0.split(separator: ",")[1] == $0.split(separator: ",")[2] }.count
        XCTAssertEqual(Double(right) / 400, accuracy, accuracy: 1e-9, "the predictions file agrees with the accuracy")
    }

    /// Every bundled recording comes out as its true class with the shipped weights.
    func testShippedTinyModelClassifiesEveryExample() throws {
        for label in Self.labels {
            let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors",
                              "--input", "examples/signals/\(label).wav", "--top", "1", "--json")
            XCTAssertEqual(r.status, 0, r.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let samples = object?["samples"] as? [[String: Any]]
            let top = (samples?.first?["top"] as? [[String: Any]])?.first
            XCTAssertEqual(top?["label"] as? String, label, "\(label).wav: \(r.stdout)")
        }
    }

    /// A small folder of example recordings (healthy and ball), laid out as label folders.
    func smallFolder() throws -> String {
        let root = path("small")
        for label in ["healthy", "ball"] {
            try FileManager.default.createDirectory(atPath: root + "/" + label, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.repo.path + "/examples/signals/\(label).wav", toPath: root + "/\(label)/a.wav")
        }
        return root
    }

    func testEvalOnAScannedFolderAndItsRefusals() throws {
        let root = try smallFolder()
        let ok = try qemlc("eval", "examples/qemlnet-tiny.qir", root, "--weights", "examples/qemlnet-tiny.safetensors", "--backend", "interpret")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("2 recordings, backend interpret (reference interpreter), f32"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("confusion matrix (rows: true class, columns: predicted"), ok.stdout)

        // --by needs a manifest column.
        let by = try qemlc("eval", "examples/qemlnet-tiny.qir", root, "--weights", "examples/qemlnet-tiny.safetensors", "--by", "rpm")
        XCTAssertEqual(by.status, 1)
        XCTAssertTrue(by.stderr.contains("--by rpm: \(root) has no such column (a scanned folder has none: use a manifest)"), by.stderr)

        // An unreadable recording stops the run and names it; --skip-bad reports it instead.
        try Data("RIFF".utf8).write(to: URL(fileURLWithPath: root + "/ball/broken.wav"))
        let bad = try qemlc("eval", "examples/qemlnet-tiny.qir", root, "--weights", "examples/qemlnet-tiny.safetensors")
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.hasPrefix("error: \(root)/ball/broken.wav: "), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("fix: fix or remove the recording, or pass --skip-bad to skip unreadable ones"), bad.stderr)
        let skip = try qemlc("eval", "examples/qemlnet-tiny.qir", root, "--weights", "examples/qemlnet-tiny.safetensors", "--skip-bad", "--json")
        XCTAssertEqual(skip.status, 0, skip.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(skip.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["count"] as? Int, 2)
        XCTAssertEqual((json["skipped"] as? [[String: Any]])?.first?["path"] as? String, root + "/ball/broken.wav")

        // A label the model does not know names the file and the model's labels.
        try FileManager.default.createDirectory(atPath: root + "/bogus", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root + "/healthy/a.wav", toPath: root + "/bogus/b.wav")
        let unknown = try qemlc("eval", "examples/qemlnet-tiny.qir", root, "--weights", "examples/qemlnet-tiny.safetensors", "--skip-bad")
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("error: \(root)/bogus/b.wav: label 'bogus' is not one of examples/qemlnet-tiny.qir's labels (\(Self.labels.joined(separator: ", ")))"), unknown.stderr)
    }

    func testEvalArgumentsAndManifests() throws {
        let batch = try qemlc("eval", "examples/qemlnet-tiny.qir", "x", "--weights", "examples/qemlnet-tiny.safetensors", "--batch", "0")
        XCTAssertEqual(batch.status, 64, batch.stderr)
        XCTAssertTrue(batch.stderr.contains("--batch 0: must be at least 1"), batch.stderr)
        let missing = try qemlc("eval", "examples/qemlnet-tiny.qir", path("nothing"), "--weights", "examples/qemlnet-tiny.safetensors")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("\(path("nothing")): no such file or folder"), missing.stderr)
        let noColumns = try write("m.csv", "file,class\na.wav,healthy\n")
        let header = try qemlc("eval", "examples/qemlnet-tiny.qir", noColumns, "--weights", "examples/qemlnet-tiny.safetensors")
        XCTAssertEqual(header.status, 1)
        XCTAssertTrue(header.stderr.contains("\(noColumns):1: the header has no path and label columns (it has file, class)"), header.stderr)
        let ragged = try write("r.csv", "path,label,rpm\n\(Self.repo.path)/examples/signals/cage.wav,cage\n")
        let rows = try qemlc("eval", "examples/qemlnet-tiny.qir", ragged, "--weights", "examples/qemlnet-tiny.safetensors")
        XCTAssertEqual(rows.status, 1)
        XCTAssertTrue(rows.stderr.contains("\(ragged):2: 2 fields, the header has 3"), rows.stderr)
        // A manifest with absolute paths and an extra column, broken down by it.
        let manifest = try write("ok.csv", "path,label,site\n\(Self.repo.path)/examples/signals/cage.wav,cage,north\n\(Self.repo.path)/examples/signals/unbalance.wav,unbalance,south\n")
        let ok = try qemlc("eval", "examples/qemlnet-tiny.qir", manifest, "--weights", "examples/qemlnet-tiny.safetensors", "--by", "site", "--json")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any])
        let groups = try XCTUnwrap((json["by"] as? [String: Any])?["groups"] as? [[String: Any]])
        XCTAssertEqual(groups.compactMap { $0["group"] as? String }, ["north", "south"])
    }

    func testDatasetOptionsAreChecked() throws {
        let noCount = try qemlc("synth", "--dataset", path("d"))
        XCTAssertEqual(noCount.status, 64)
        XCTAssertTrue(noCount.stderr.contains("Missing expected argument '--per-class <n>'"), noCount.stderr)
        let range = try qemlc("synth", "--dataset", path("d"), "--per-class", "2", "--rpm", "1800:1500")
        XCTAssertEqual(range.status, 64)
        XCTAssertTrue(range.stderr.contains("--rpm 1800:1500: must be between 60 and 60000 rpm, MIN ≤ MAX"), range.stderr)
        let bearing = try qemlc("synth", "--dataset", path("d"), "--per-class", "2", "--bearing", "6999")
        XCTAssertEqual(bearing.status, 64)
        XCTAssertTrue(bearing.stderr.contains("--bearing 6999: not a known bearing nor a geometry (one of 6205-2RS, 6203, NU205, all, or n=9,d=7.94,D=39.04,angle=0)"), bearing.stderr)
        // Deterministic: the same seed writes the same bytes; all bearings drawn with --bearing all.
        for name in ["a", "b"] {
            let r = try qemlc("synth", "--dataset", path(name), "--per-class", "2", "--seed", "5", "--bearing", "all")
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a/manifest.csv"))), try Data(contentsOf: URL(fileURLWithPath: path("b/manifest.csv"))))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a/cage/0001.wav"))), try Data(contentsOf: URL(fileURLWithPath: path("b/cage/0001.wav"))))
        let again = try qemlc("synth", "--dataset", path("a"), "--per-class", "2")
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("\(path("a"))/manifest.csv exists: \(path("a")) already holds a data set"), again.stderr)
    }
}

/// `qemlc run --stream` and `synth --timeline` from the command line.
final class StreamCommandTests: CommandLineTestCase {
    func testStreamPrintsOneLinePerWindowAndDrawsTheTimeline() throws {
        let long = path("long.wav")
        let synth = try qemlc("synth", "--timeline", "healthy:2,outer_race:2.25", "-o", long)
        XCTAssertEqual(synth.status, 0, synth.stderr)
        XCTAssertTrue(synth.stdout.contains("healthy from 0.00 s, outer_race from 2.00 s, 4.25 s at 12000 Hz"), synth.stdout)
        let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors", "--input", long,
                          "--stream", "--hop", "0.5", "--plot", path("timeline.png"))
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("t=") }
        // Windows end at 1.0, 1.5, …, 4.0 s, then a final one at 4.25 s.
        XCTAssertEqual(lines.map { $0.split(separator: " ")[0] }, ["t=1.00", "t=1.50", "t=2.00", "t=2.50", "t=3.00", "t=3.50", "t=4.00", "t=4.25"])
        let first = try XCTUnwrap(lines.first), last = try XCTUnwrap(lines.last)
        XCTAssertTrue(last.hasSuffix("(final window: 3000 new samples)"), String(last))
        XCTAssertEqual(first.split(separator: " ").dropFirst().first, "healthy", "the first second is healthy")
        XCTAssertEqual(last.split(separator: " ").dropFirst().first, "outer_race", "the last second is an outer-race fault")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("timeline.png"))).prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))

        // The first streamed window equals a one-shot run, which takes the first `length` samples.
        let json = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors", "--input", long, "--stream", "--json")
        XCTAssertEqual(json.status, 0, json.stderr)
        let windows = try json.stdout.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(windows.count, 14, "a window every 3,072 samples (0.256 s) from 1 s to 4.25 s, the last a final one")
        XCTAssertEqual(windows.first?["window"] as? String, "full")
        let streamed = try XCTUnwrap(windows.first?["probs"] as? [String: Double])
        let once = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors", "--input", long, "--json")
        XCTAssertEqual(once.status, 0, once.stderr)
        let top = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(once.stdout.utf8)) as? [String: Any])?["samples"] as? [[String: Any]])?.first?["top"] as? [[String: Any]])
        XCTAssertEqual(top.count, 8)
        for entry in top {
            let label = try XCTUnwrap(entry["label"] as? String), p = try XCTUnwrap(entry["probs"] as? Double)
            XCTAssertEqual(try XCTUnwrap(streamed[label]), p, accuracy: 1e-6, label)
        }
    }

    func testStreamRefusals() throws {
        let hop = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors", "--input", "examples/signals/ball.wav", "--hop", "1")
        XCTAssertEqual(hop.status, 64)
        XCTAssertTrue(hop.stderr.contains("--hop and --plot go with --stream"), hop.stderr)
        let zero = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors", "--input", "examples/signals/ball.wav", "--stream", "--hop", "0")
        XCTAssertEqual(zero.status, 64)
        let timeline = try qemlc("synth", "--timeline", "healthy:2,rust:1", "-o", path("x.wav"))
        XCTAssertEqual(timeline.status, 64)
        XCTAssertTrue(timeline.stderr.contains("--timeline healthy:2,rust:1: each part is FAULT:SECONDS"), timeline.stderr)
    }
}
