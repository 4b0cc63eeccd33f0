import Foundation

/// Polyphase resampling by a rational factor, the algorithm of `scipy.signal.resample_poly`
/// with its defaults: up/down reduced by their gcd, a linear-phase FIR low-pass of
/// 2·10·max(up, down) + 1 taps (`firwin`, cutoff 1/max(up, down) of Nyquist, Kaiser window
/// β = 5), gain `up`, zero padding at both ends, the group delay removed so output sample k is
/// at time k·down/(up·rate). Output length ⌈n·up/down⌉.
public func resamplePoly(_ x: [Float], from inRate: Int, to outRate: Int) throws -> [Float] {
    guard inRate > 0, outRate > 0 else {
        throw SignalError("cannot resample from \(inRate) Hz to \(outRate) Hz", fix: "both sample rates must be positive")
    }
    let g = gcd(inRate, outRate)
    let (up, down) = (outRate / g, inRate / g)
    guard max(up, down) <= 10_000 else {
        throw SignalError("resampling \(inRate) Hz → \(outRate) Hz is the ratio \(up)/\(down), which needs a \(20 * max(up, down) + 1)-tap filter",
                          fix: "resample to a rate with a simpler ratio to \(outRate) Hz first (e.g. sox in.wav -r \(outRate) out.wav)")
    }
    return resamplePoly(x, up: up, down: down)
}

public func resamplePoly(_ x: [Float], up: Int, down: Int) -> [Float] {
    if up == down { return x }
    let maxRate = max(up, down)
    let halfLen = 10 * maxRate
    var h = lowPassFIR(taps: 2 * halfLen + 1, cutoff: 1 / Double(maxRate), kaiserBeta: 5).map { $0 * Double(up) }
    let nIn = x.count
    let nOut = (nIn * up + down - 1) / down
    // scipy pads h in front so its centre lands on an output sample, then drops the delay.
    let nPrePad = down - halfLen % down
    let nPreRemove = (halfLen + nPrePad) / down
    h = [Double](repeating: 0, count: nPrePad) + h
    var y = [Float](repeating: 0, count: nOut)
    for k in 0..<nOut {
        let m = (k + nPreRemove) * down  // index into the zero-stuffed input convolved with h
        var acc = 0.0
        // taps j with (m − j) divisible by up, input sample i = (m − j)/up in range
        var j = m % up
        while j < h.count {
            let i = (m - j) / up
            if i < 0 { break }
            if i < nIn { acc += h[j] * Double(x[i]) }
            j += up
        }
        y[k] = Float(acc)
    }
    return y
}

/// `scipy.signal.firwin(taps, cutoff, window=("kaiser", beta))`: windowed sinc, unit DC gain.
func lowPassFIR(taps: Int, cutoff: Double, kaiserBeta beta: Double) -> [Double] {
    let alpha = 0.5 * Double(taps - 1)
    var h = (0..<taps).map { i -> Double in
        let m = Double(i) - alpha
        let sinc = m == 0 ? 1 : sin(.pi * cutoff * m) / (.pi * cutoff * m)
        return cutoff * sinc * kaiser(i, taps, beta)
    }
    let s = h.reduce(0, +)
    for i in h.indices { h[i] /= s }
    return h
}

/// Symmetric Kaiser window value i of n.
func kaiser(_ i: Int, _ n: Int, _ beta: Double) -> Double {
    guard n > 1 else { return 1 }
    let r = 2 * Double(i) / Double(n - 1) - 1
    return besselI0(beta * (max(0, 1 - r * r)).squareRoot()) / besselI0(beta)
}

/// Modified Bessel function I₀ by its power series (converges fast for the β used here).
func besselI0(_ x: Double) -> Double {
    var sum = 1.0, term = 1.0
    let q = x * x / 4
    for k in 1..<200 {
        term *= q / Double(k * k)
        sum += term
        if term < sum * 1e-17 { break }
    }
    return sum
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
