/// The Hilbert envelope |x + i·H(x)| (the magnitude of `scipy.signal.hilbert`'s analytic signal):
/// FFT, zero the negative frequencies and double the positive ones (0 Hz and, for even
/// length, Nyquist kept once), inverse FFT.
public func hilbertEnvelope(_ x: [Float]) -> [Float] {
    let n = x.count
    guard n > 0 else { return [] }
    let buf = FFTBuffer(count: 2 * n), spectrum = FFTBuffer(count: 2 * n)
    for i in 0..<n { buf.base[2 * i] = x[i]; buf.base[2 * i + 1] = 0 }
    FFTW.shared.complex(n: n, forward: true).execute(input: buf, output: spectrum)
    for k in 1..<n {
        let h: Float
        if 2 * k < n { h = 2 } else if 2 * k == n { h = 1 } else { h = 0 }
        spectrum.base[2 * k] *= h
        spectrum.base[2 * k + 1] *= h
    }
    FFTW.shared.complex(n: n, forward: false).execute(input: spectrum, output: buf)
    let scale = 1 / Float(n)
    return (0..<n).map { i in
        let re = buf.base[2 * i], im = buf.base[2 * i + 1]
        return (re * re + im * im).squareRoot() * scale
    }
}

/// The envelope spectrum used to read bearing fault frequencies: the magnitude of the real FFT of
/// the mean-removed Hilbert envelope, `n/2 + 1` bins at k · sampleRate / n Hz.
public func envelopeSpectrum(_ x: [Float]) -> [Float] {
    let env = hilbertEnvelope(x)
    let n = env.count
    guard n > 0 else { return [] }
    let mean = env.reduce(0, +) / Float(n)
    let buf = FFTBuffer(count: 2 * n), spectrum = FFTBuffer(count: 2 * n)
    for i in 0..<n { buf.base[2 * i] = env[i] - mean; buf.base[2 * i + 1] = 0 }
    FFTW.shared.complex(n: n, forward: true).execute(input: buf, output: spectrum)
    return (0...(n / 2)).map { k in
        let re = spectrum.base[2 * k], im = spectrum.base[2 * k + 1]
        return (re * re + im * im).squareRoot()
    }
}
