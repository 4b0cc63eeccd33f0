import Foundation
import XCTest

/// The exported runtime's streaming API and `classify --stream`, against `qemlc run --stream` and
/// against one-shot runs of the same samples.
final class StreamExportTests: CommandLineTestCase {
    /// Exports the trained tiny model with `hop` samples between windows and builds ./classify.
    func exportTiny(hop: Int) throws -> URL {
        let out = path("tiny-\(hop)")
        let r = try qemlc("export", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors", "-o", out, "--stream-hop", String(hop))
        XCTAssertEqual(r.status, 0, r.stderr)
        let make = try exec("make", [], in: URL(fileURLWithPath: out))
        XCTAssertEqual(make.status, 0, make.stderr)
        XCTAssertFalse(make.stderr.contains("warning"), make.stderr)
        return URL(fileURLWithPath: out)
    }

    func testClassifyStreamPrintsTheLinesQemlcPrints() throws {
        let long = path("long.wav")
        XCTAssertEqual(try qemlc("synth", "--timeline", "healthy:2,outer_race:2.3", "-o", long).status, 0)
        let dir = try exportTiny(hop: 3000)
        let qemlcLines = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors", "--input", long, "--stream", "--hop", "0.25")
        XCTAssertEqual(qemlcLines.status, 0, qemlcLines.stderr)
        XCTAssertTrue(qemlcLines.stdout.hasSuffix("(final window: 600 new samples)\n"), qemlcLines.stdout)
        // From the file (pushed 1000 samples at a time: the ring wraps many times) …
        let file = try exec("./classify", ["--stream", long], in: dir)
        XCTAssertEqual(file.status, 0, file.stderr)
        XCTAssertEqual(file.stdout, qemlcLines.stdout)
        // … and from a pipe of s16le PCM, the default (the WAV's samples after its 44-byte header,
        // as `arecord -f S16_LE -t raw` writes them), read to EOF.
        let pipe = try exec("sh", ["-c", "tail -c +45 '\(long)' | ./classify --stream -"], in: dir)
        XCTAssertEqual(pipe.status, 0, pipe.stderr)
        XCTAssertEqual(pipe.stdout, qemlcLines.stdout)
        // JSON lines, one object per window.
        let json = try exec("./classify", ["--stream", "--json", long], in: dir)
        XCTAssertEqual(json.status, 0, json.stderr)
        let objects = try json.stdout.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(objects.count, qemlcLines.stdout.split(separator: "\n").count)
        XCTAssertEqual(objects.last?["window"] as? String, "final")
        // Refusals: a second signal, an unknown format.
        XCTAssertEqual(try exec("./classify", ["--stream", long, long], in: dir).status, 64)
        XCTAssertEqual(try exec("./classify", ["--stream", "--format", "u8", "-"], in: dir).status, 64)
    }

    /// The C API itself: a hop that does not divide the window, the ring wrapping, reset, and two
    /// streams on two threads — each window equal to a one-shot run on the same samples.
    func testStreamAPIOnTwoThreadsEqualsOneShotRuns() throws {
        let f = try streamCheck(hop: 5000)
        // 40,000 samples, a 12,000-sample window every 5,000: ends 12k, 17k, …, 37k, then a final one at 40k.
        XCTAssertEqual(f.first, "7", f.joined(separator: " "))
        XCTAssertEqual(f.dropFirst().first, "7", "the second thread's stream is the same")
        for worst in f[2...3] { XCTAssertTrue((Double(worst) ?? .nan) <= 1e-6, "a window against a one-shot run: \(worst)") }
        XCTAssertEqual(Array(f[4...5]), ["1", "1"], "windows in order")
        // 5,000 is no multiple of the front end's 256-sample hop: every frame of every window is computed (47 × 2 channels).
        XCTAssertEqual(Array(f[6...7]), ["94", "94"], "frames of the first window, and the most of any later full window")
    }

    /// The incremental STFT: with a hop of 12 STFT frames (3,072 samples), a full window computes
    /// only the frames it does not share with the previous one — 20 of 47 per channel: the 4
    /// frames at its reflect-padded start and the 16 that are new (interior frames 4…42, shifted by
    /// 12) — and still equals a one-shot run bit for bit.
    func testIncrementalSTFTComputesOnlyTheNewFrames() throws {
        let f = try streamCheck(hop: 3072)
        XCTAssertEqual(f.first, "11", f.joined(separator: " "))  // ten full windows ending 12000, 15072, …, 39648, then a final one at 40000
        for worst in f[2...3] { XCTAssertEqual(worst, "0", "reused frames are the same numbers") }
        XCTAssertEqual(Array(f[6...7]), ["94", "40"], "the first window computes all 2 × 47 frames, later full windows 2 × 20")
    }

    /// Builds and runs a C program that streams 40,000 samples on two threads (after a reset) and
    /// prints: windows (thread 1, 2), worst difference from one-shot runs (1, 2), order ok (1, 2),
    /// frames computed by the first window, the most frames computed by a later full window.
    func streamCheck(hop: Int) throws -> [String] {
        let dir = try exportTiny(hop: hop)
        let program = """
            #include "qemlnet-tiny.h"
            #include <math.h>
            #include <pthread.h>
            #include <stdio.h>
            #include <stdlib.h>

            #define N 40000
            static float signal[N];
            static const void *weights_image;
            typedef struct { int windows; double worst; int order_ok; size_t last_end; int first_frames, later_frames; } check;

            /* Each window against a one-shot run of the same samples on a context of its own. */
            static void on_result(const qemlnet_tiny_stream_result *r, void *user) {
                check *c = user;
                qemlnet_tiny_context *one = qemlnet_tiny_create(NULL, 0);
                qemlnet_tiny_load_weights_file(one, "qemlnet-tiny.weights");
                const size_t end = (size_t)llround(r->end_seconds * QEMLNET_TINY_SAMPLE_RATE);
                qemlnet_tiny_run_signal(one, signal + end - r->samples, r->samples);
                for (int k = 0; k < QEMLNET_TINY_CLASSES; k++) {
                    const double d = fabs(r->probabilities[k] - qemlnet_tiny_probabilities(one)[k]);
                    if (!(d <= c->worst)) c->worst = d;  /* NaN sticks */
                }
                if (end <= c->last_end) c->order_ok = 0;
                if (c->windows == 0) c->first_frames = r->frames_computed;
                else if (r->kind == QEMLNET_TINY_WINDOW_FULL && r->frames_computed > c->later_frames) c->later_frames = r->frames_computed;
                c->last_end = end;
                c->windows++;
                qemlnet_tiny_destroy(one);
            }

            static void *run(void *arg) {
                check *c = arg;
                qemlnet_tiny_context *ctx = qemlnet_tiny_create(NULL, 0);
                if (qemlnet_tiny_load_weights_file(ctx, "qemlnet-tiny.weights") != QEMLNET_TINY_OK) return NULL;
                qemlnet_tiny_stream_init(ctx, 0);
                /* Some samples, then a reset: what came before must not leak into the next stream. */
                qemlnet_tiny_stream_push(ctx, signal + 777, 20000, NULL, NULL);
                qemlnet_tiny_stream_reset(ctx);
                for (size_t at = 0; at < N; at += 1234) qemlnet_tiny_stream_push(ctx, signal + at, N - at < 1234 ? N - at : 1234, on_result, c);
                qemlnet_tiny_stream_finish(ctx, on_result, c);
                qemlnet_tiny_destroy(ctx);
                return NULL;
            }

            int main(void) {
                unsigned state = 12345;
                for (int i = 0; i < N; i++) {
                    state = state * 1103515245u + 12345u;
                    signal[i] = 0.3f * sinf(0.05f * i) * (1.0f + (float)(i / 12000)) + ((float)(state >> 8) / 16777216.0f - 0.5f) * 0.2f;
                }
                (void)weights_image;
                check a = {0, 0, 1, 0, 0, 0}, b = {0, 0, 1, 0, 0, 0};
                pthread_t ta, tb;
                pthread_create(&ta, NULL, run, &a);
                pthread_create(&tb, NULL, run, &b);
                pthread_join(ta, NULL);
                pthread_join(tb, NULL);
                printf("%d %d %g %g %d %d %d %d\\n", a.windows, b.windows, a.worst, b.worst, a.order_ok, b.order_ok, a.first_frames, a.later_frames);
                return 0;
            }
            """
        try program.write(to: dir.appendingPathComponent("stream_check.c"), atomically: true, encoding: .utf8)
        let cc = try exec("cc", ["-O1", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", "stream_check", "stream_check.c",
                                 "qemlnet-tiny_runtime.c", "qemlnet-tiny.o", "-lm"], in: dir)
        XCTAssertEqual(cc.status, 0, cc.stderr)
        let r = try exec("./stream_check", [], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let f = r.stdout.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard f.count == 8 else { XCTFail("stream_check printed: \(r.stdout)"); return Array(repeating: "", count: 8) }
        return f
    }
}
