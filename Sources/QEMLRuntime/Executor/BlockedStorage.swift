import QEMLCodegen
import QEMLTensor

/// How the executor stores one activation: every value lives in the code generator's blocked
/// layout (`KernelDefinition`'s ABI), whatever the layout pass annotated — a rank-4 `[N,C,H,W]`
/// as NCHWc with channels padded to the vector width (padded lanes zero), a rank-2 `[N,K]` as
/// `[N,K,1,1]`, a rank-3 `[N,A,B]` as `[N,A,B,1]`. One convention means `reorder` is free (an
/// alias) and every generated kernel can read every value.
struct BlockedStorage: Hashable, Sendable {
    /// The logical per-sample shape `[C, H, W]`.
    var channels, height, width: Int
    var lanes: Int
    /// f32, or u8 for the 7-bit codes an int8 op reads (one byte per element, same layout).
    var element: ElementType = .f32

    init(channels: Int, height: Int, width: Int, lanes: Int, element: ElementType = .f32) {
        self.channels = channels
        self.height = height
        self.width = width
        self.lanes = lanes
        self.element = element
    }

    /// The storage of a value with per-sample dims `dims` (the type without its batch dim).
    init?(perSample dims: [Int], lanes: Int) {
        switch dims.count {
        case 0: self.init(channels: 1, height: 1, width: 1, lanes: lanes)
        case 1: self.init(channels: dims[0], height: 1, width: 1, lanes: lanes)
        case 2: self.init(channels: dims[0], height: dims[1], width: 1, lanes: lanes)
        case 3: self.init(channels: dims[0], height: dims[1], width: dims[2], lanes: lanes)
        default: return nil
        }
    }

    var shape: [Int] { [channels, height, width] }
    var blocks: Int { (channels + lanes - 1) / lanes }
    /// Elements per sample as stored.
    var elementsPerSample: Int { blocks * lanes * height * width }
    /// The arena's unit, 4-byte words per sample (a u8 tensor takes a quarter of an f32 one).
    var wordsPerSample: Int { (elementsPerSample * element.bytes + 3) / 4 }
    /// Floats per sample in plain NCHW.
    var plainPerSample: Int { channels * height * width }

    /// Plain NCHW → blocked, `batch` samples (padded lanes written as zero).
    func block(_ plain: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, batch: Int) {
        let hw = height * width, l = lanes
        for n in 0..<batch {
            let src = plain + n * plainPerSample, dst = out + n * elementsPerSample
            for cb in 0..<blocks {
                for p in 0..<hw {
                    for lane in 0..<l {
                        let c = cb * l + lane
                        dst[(cb * hw + p) * l + lane] = c < channels ? src[c * hw + p] : 0
                    }
                }
            }
        }
    }

    /// Blocked → plain NCHW, `batch` samples.
    func unblock(_ blocked: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, batch: Int) {
        let hw = height * width, l = lanes
        for n in 0..<batch {
            let src = blocked + n * elementsPerSample, dst = out + n * plainPerSample
            for c in 0..<channels {
                let cb = c / l, lane = c % l
                for p in 0..<hw { dst[c * hw + p] = src[(cb * hw + p) * l + lane] }
            }
        }
    }
}
