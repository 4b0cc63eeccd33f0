/// The windows a long recording or a stream is classified on (`qemlc run --stream`, the exported
/// runtime's streaming API): the last `length` samples every `hop` samples. A window ends at
/// length, length + hop, …; at the end of the input, samples that arrived after the last window
/// give one final window ending at the last sample; an input shorter than `length` gives one
/// short window, zero-padded as the front end pads any short signal.
public struct StreamWindow: Sendable, Equatable {
    public enum Kind: String, Sendable { case full, finalPartialHop = "final", short }
    /// Samples [start, end) of the input.
    public var start: Int
    public var end: Int
    public var kind: Kind

    public init(start: Int, end: Int, kind: Kind) {
        self.start = start
        self.end = end
        self.kind = kind
    }

    /// The hop when none is given: a quarter window, rounded to whole STFT hops so that a stream
    /// can reuse the frames consecutive windows share (the exported runtime's incremental STFT).
    public static func defaultHop(length: Int, stftHop: Int) -> Int {
        let h = max(1, stftHop)
        return max(h, (length / 4 + h / 2) / h * h)
    }

    public static func windows(samples n: Int, length: Int, hop: Int) -> [StreamWindow] {
        precondition(length > 0 && hop > 0)
        guard n > 0 else { return [] }
        guard n >= length else { return [StreamWindow(start: 0, end: n, kind: .short)] }
        var out: [StreamWindow] = []
        var end = length
        while end <= n {
            out.append(StreamWindow(start: end - length, end: end, kind: .full))
            end += hop
        }
        if let last = out.last?.end, last < n { out.append(StreamWindow(start: n - length, end: n, kind: .finalPartialHop)) }
        return out
    }
}
