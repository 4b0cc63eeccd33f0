/// The Hilbert envelope |x + i·H(x)| (the magnitude of `scipy.signal.hilbert`'s analytic signal):
/// FFT, zero the negative frequencies and double the positive ones (0 Hz and, for even
/// length, Nyquist kept once), inverse FFT. With `band` (Hz, needs `sampleRate`) the bins
/// outside it are zeroed too: the ideal band-pass around a structural resonance that bearing
/// diagnostics apply before demodulating.
public func hilbertEnvelope(_ x: [Float], sampleRate: Int = 1, band: ClosedRange<Double>? = nil) -> [Float] {
    let n = x.count
    guard n > 0 else { return [] }
    let binHz = Double(sampleRate) / Double(n)
    let buf = FFTBuffer(count: 2 * n), spectrum = FFTBuffer(count: 2 * n)
    for i in 0..<n { buf.base[2 * i] = x[i]; buf.base[2 * i + 1] = 0 }
    FFTW.shared.complex(n: n, forward: true).execute(input: buf, output: spectrum)
    if let band, !band.contains(0) { spectrum.base[0] = 0; spectrum.base[1] = 0 }
    for k in 1..<n {
        var h: Float
        if 2 * k < n { h = 2 } else if 2 * k == n { h = 1 } else { h = 0 }
        if let band, !band.contains(Double(k) * binHz) { h = 0 }
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
/// the Hilbert envelope (of the signal band-passed to `band` Hz, if given), `n/2 + 1` bins at
/// k · sampleRate / n Hz — `np.abs(np.fft.rfft(np.abs(scipy.signal.hilbert(x))))`. The mean is
/// kept (bin 0), as SciPy keeps it; plots skip bin 0.
public func envelopeSpectrum(_ x: [Float], sampleRate: Int = 1, band: ClosedRange<Double>? = nil) -> [Float] {
    let env = hilbertEnvelope(x, sampleRate: sampleRate, band: band)
    let n = env.count
    guard n > 0 else { return [] }
    let buf = FFTBuffer(count: 2 * n), spectrum = FFTBuffer(count: 2 * n)
    for i in 0..<n { buf.base[2 * i] = env[i]; buf.base[2 * i + 1] = 0 }
    FFTW.shared.complex(n: n, forward: true).execute(input: buf, output: spectrum)
    return (0...(n / 2)).map { k in
        let re = spectrum.base[2 * k], im = spectrum.base[2 * k + 1]
        return (re * re + im * im).squareRoot()
    }
}
