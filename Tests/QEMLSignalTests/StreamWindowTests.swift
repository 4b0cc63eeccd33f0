import XCTest
@testable import QEMLSignal

/// The windows a stream is classified on: every hop, a final one for samples after the last
/// window, a short zero-padded one for an input shorter than a window.
final class StreamWindowTests: XCTestCase {
    func testWindowsEveryHopAndAFinalOne() {
        let w = StreamWindow.windows(samples: 10_000, length: 4_000, hop: 2_500)
        XCTAssertEqual(w.map(\.end), [4_000, 6_500, 9_000, 10_000])
        XCTAssertEqual(w.map(\.kind), [.full, .full, .full, .finalPartialHop])
        XCTAssertTrue(w.allSatisfy { $0.end - $0.start == 4_000 }, "every window holds a whole window of samples")
    }

    func testAHopThatDividesTheInputLeavesNoFinalWindow() {
        let w = StreamWindow.windows(samples: 12_000, length: 4_000, hop: 4_000)
        XCTAssertEqual(w.map(\.end), [4_000, 8_000, 12_000])
        XCTAssertEqual(Set(w.map(\.kind)), [.full])
    }

    func testShortInputAndEmptyInput() {
        XCTAssertEqual(StreamWindow.windows(samples: 100, length: 4_000, hop: 1_000), [StreamWindow(start: 0, end: 100, kind: .short)])
        XCTAssertEqual(StreamWindow.windows(samples: 0, length: 4_000, hop: 1_000), [])
        XCTAssertEqual(StreamWindow.windows(samples: 4_000, length: 4_000, hop: 1_000), [StreamWindow(start: 0, end: 4_000, kind: .full)])
    }

    func testDefaultHopIsAQuarterWindowInWholeSTFTHops() {
        XCTAssertEqual(StreamWindow.defaultHop(length: 12_000, stftHop: 256), 3_072)
        XCTAssertEqual(StreamWindow.defaultHop(length: 12_000, stftHop: 64), 3_008)
        XCTAssertEqual(StreamWindow.defaultHop(length: 100, stftHop: 256), 256, "at least one STFT hop")
    }

    func testHopLongerThanTheWindowSkipsSamples() {
        let w = StreamWindow.windows(samples: 10_000, length: 2_000, hop: 3_000)
        XCTAssertEqual(w.map(\.start), [0, 3_000, 6_000, 8_000])
    }

    func testTimelineKeepsSegmentsInOrderUnderOneGain() throws {
        var base = BearingSynth.Settings(fault: .healthy)
        base.snrDB = nil
        let x = try BearingSynth.timeline([(.healthy, 0.5), (.outerRace, 0.5)], base: base)
        XCTAssertEqual(x.count, 12_000)
        let first = x[0..<6_000].map(abs).max()!, second = x[6_000...].map(abs).max()!
        XCTAssertEqual(max(first, second), 0.5, accuracy: 1e-6, "one gain: the loudest sample at the peak")
        XCTAssertLessThan(first, second / 3, "the healthy part is quieter than the impacts after it")
    }
}
