import Foundation
import QEMLSignal

/// The model's `frontend` section as generated C with the same conventions as QEMLSignal's
/// `FrontEnd`: crop/zero-pad to `length`, centre padding (reflect or zeros), window, a real FFT
/// specialised for `n_fft`, the scale, bilinear resize, standardize. Everything the signal's
/// length does not change is a constant: the window, the FFT's bit-reversal and twiddles, the
/// resize taps (computed here by the same formulas as QEMLSignal, so both resize alike).
///
/// The FFT: for a power-of-two `n_fft`, the real transform as a complex radix-2 FFT of
/// `n_fft/2` points (even samples real, odd imaginary; split real/imaginary arrays and one
/// contiguous twiddle table per stage, so the butterflies vectorize) plus the split step, in
/// float like the host's FFTW plan; for any other length a direct DFT over one table of
/// `n_fft` cosines and sines, accumulated in double (`n_fft²` multiply-adds per frame — fine
/// for the short frames models use). `log1p` is QEMLSignal's polynomial (Cephes `logf` with
/// a first-order correction), so both front ends round alike.
enum CFrontEnd {
    /// Refuses settings the generated front end does not implement, and a network input that
    /// does not match the front end's output.
    static func check(_ fe: FrontEnd, input: BlockedStorage) throws {
        guard let length = fe.length else {
            throw ExportError("the frontend section sets no length; the exported runtime sizes its buffers for a fixed signal length",
                              fix: "add `length = <samples>` to the frontend section (signals are cropped or zero-padded to it)")
        }
        if fe.sources.contains(.envelope) {
            throw ExportError("the exported runtime's front end does not compute the Hilbert envelope (frontend envelope / channels \"envelope\")",
                              fix: "use channels = [\"rectified\"] (|x|, the envelope detector the runtime computes), or classify with `qemlc run`")
        }
        if fe.scaling != "none" {
            throw ExportError("frontend scaling = \"\(fe.scaling)\" is not supported by the exported runtime yet", fix: "export a model without the scaling setting (scaling = \"none\")")
        }
        if fe.nMels != nil, fe.sampleRate == nil {
            throw ExportError("frontend n_mels needs sample_rate: the exported runtime's mel bank is built at export time",
                              fix: "add `sample_rate = <Hz>` to the frontend section")
        }
        guard let shape = fe.outputShape(samples: length) else {
            throw ExportError("the frontend produces no frames for length = \(length)", fix: "raise length or lower n_fft")
        }
        guard input.channels == shape[1], input.height == shape[2], input.width == shape[3] else {
            throw ExportError("the frontend produces [\(shape[1]), \(shape[2]), \(shape[3])] but the model's input is [\(input.channels), \(input.height), \(input.width)]",
                              fix: "make the frontend's channels and resize match the input shape")
        }
    }

    static func isPowerOfTwo(_ n: Int) -> Bool { n > 0 && n & (n - 1) == 0 }

    /// The C definitions: constants and `static` functions `fe_run(signal, count, scratch, out)`.
    /// Frames per FFT call.
    static let tile = 8

    /// The mel bank as QEMLSignal builds it, or nil without `n_mels`.
    static func melBank(_ fe: FrontEnd) throws -> MelFilterBank? {
        guard let nMels = fe.nMels, let rate = fe.sampleRate else { return nil }
        return try MelFilterBank(sampleRate: rate, nFFT: fe.stft.nFFT, nMels: nMels, fmin: fe.fmin, fmax: fe.fmax)
    }

    /// Rows of the map before resizing: mel bands or the FFT bins kept (`fmin`…`fmax`).
    static func mapRows(_ fe: FrontEnd) -> Int { fe.nMels ?? fe.keptBins(sampleRate: fe.sampleRate ?? 1).count }

    /// Floats of the network input: every channel's [rows][cols].
    static func outputFloats(_ fe: FrontEnd) -> Int {
        let (rows, cols) = fe.resize ?? (mapRows(fe), fe.stft.frameCount(length: fe.length ?? 0))
        return fe.sources.count * rows * cols
    }

    /// Floats of the spectrogram buffer: the STFT, then (with mel bands) the mel map after it.
    static func specFloats(_ fe: FrontEnd, frames: Int) -> Int { (fe.stft.bins + (fe.nMels ?? 0)) * frames }

    static func source(_ fe: FrontEnd) throws -> String {
        let n = fe.stft.nFFT, hop = fe.stft.hop, pad = fe.stft.padAmount
        let length = fe.length ?? 0
        let frames = fe.stft.frameCount(length: length), bins = fe.stft.bins
        let (rows, cols) = fe.resize ?? (mapRows(fe), frames)
        let mel = try melBank(fe)
        var c: [String] = []
        c.append("""
            /* ---- front end: \(fe.spec.settings.map { "\($0.0) = \($0.1)" }.joined(separator: ", ")) ---- */
            #define FE_NFFT \(n)
            #define FE_HOP \(hop)
            #define FE_PAD \(pad)
            #define FE_LENGTH \(length)
            #define FE_FRAMES \(frames)
            #define FE_BINS \(bins)
            #define FE_ROWS \(rows)
            #define FE_COLS \(cols)
            #define FE_SAMPLE_RATE \(fe.sampleRate ?? 0)
            #define FE_CHANNELS \(fe.sources.count)
            /* the first FFT bin of the map (fmin) */
            #define FE_BIN0 \(fe.nMels == nil ? fe.keptBins(sampleRate: fe.sampleRate ?? 1).lowerBound : 0)
            /* scratch floats: padded signal, spectrogram, resized map, frame + FFT work */
            #define FE_PADDED_FLOATS (FE_LENGTH + 2 * FE_PAD)
            #define FE_MAP_ROWS \(mapRows(fe))
            #define FE_SPEC_FLOATS \(specFloats(fe, frames: frames))
            #define FE_MAP_FLOATS (FE_MAP_ROWS * FE_FRAMES)
            #define FE_PLANE_FLOATS (FE_ROWS * FE_COLS)  /* one channel */
            #define FE_OUT_FLOATS (FE_CHANNELS * FE_PLANE_FLOATS)
            /* Frames are transformed FE_TILE at a time, element k of frame f at [k * FE_TILE + f]: every
               butterfly is then a fixed-length loop over the tile, which compilers vectorize at -O2. */
            #define FE_TILE \(tile)
            #define FE_WORK_FLOATS (FE_TILE * (4 * FE_NFFT + 8))

            static const float fe_window[FE_NFFT] = {\(floats(fe.stft.window))};
            /* Per channel: the signal itself (0) or its full-wave rectification |x| (1), an envelope detector. */
            static const int fe_rectify[FE_CHANNELS] = {\(fe.sources.map { $0 == .rectified ? "1" : "0" }.joined(separator: ", "))};

            """)
        if isPowerOfTwo(n) && n >= 2 {
            let m = n / 2
            let bits = m.trailingZeroBitCount
            let bitrev = (0..<m).map { k -> Int in
                var r = 0
                for b in 0..<bits where k & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
                return r
            }
            // Stage twiddles e^(-2πij/size), j < half = size/2, stored at [half, 2·half).
            var tw = [Double](repeating: 0, count: max(2, m))
            var twIm = tw
            var half = 1
            while half < m {
                for j in 0..<half {
                    tw[half + j] = cos(-Double.pi * Double(j) / Double(half))
                    twIm[half + j] = sin(-Double.pi * Double(j) / Double(half))
                }
                half *= 2
            }
            let split = (0...m).map { Double($0) * -2 * Double.pi / Double(n) }
            c.append("""
                /* Real FFT of n = \(n): a complex radix-2 FFT of m = \(m) points, then the split step. */
                #define FE_M \(m)
                static const unsigned short fe_bitrev[FE_M] = {\(bitrev.map(String.init).joined(separator: ","))};
                static const float fe_tw_re[\(tw.count)] = {\(floats(tw.map { Float($0) }))};
                static const float fe_tw_im[\(tw.count)] = {\(floats(twIm.map { Float($0) }))};
                static const float fe_split_re[FE_M + 1] = {\(floats(split.map { Float(cos($0)) }))};
                static const float fe_split_im[FE_M + 1] = {\(floats(split.map { Float(sin($0)) }))};

                /* One radix-2 butterfly over a tile of frames (restrict parameters: the rows never
                   overlap, which lets the compiler vectorize the tile loop). */
                static inline void fe_butterfly(float *restrict ar, float *restrict ai, float *restrict br, float *restrict bi,
                                                float wr, float wi) {
                    for (int f = 0; f < FE_TILE; f++) {
                        const float tr = br[f] * wr - bi[f] * wi, ti = br[f] * wi + bi[f] * wr;
                        br[f] = ar[f] - tr; bi[f] = ai[f] - ti;
                        ar[f] += tr; ai[f] += ti;
                    }
                }

                /* X[k] = E[k] + w^k O[k] from Z[p = k mod m] and Z[q = (m − k) mod m], over a tile. */
                static inline void fe_split(const float *restrict pr, const float *restrict pi, const float *restrict qr,
                                            const float *restrict qi, float *restrict xr, float *restrict xi, float sr, float si) {
                    for (int f = 0; f < FE_TILE; f++) {
                        const float er = 0.5f * (pr[f] + qr[f]), ei = 0.5f * (pi[f] - qi[f]);
                        const float odr = 0.5f * (pi[f] + qi[f]), odi = -0.5f * (pr[f] - qr[f]);
                        xr[f] = er + sr * odr - si * odi;
                        xi[f] = ei + sr * odi + si * odr;
                    }
                }

                /* X[0..n/2] of FE_TILE real frames x[0..n)[tile]; work holds 2m·FE_TILE floats. */
                static void fe_rfft(const float *x, float *xr, float *xi, float *work) {
                    float *zr = work, *zi = work + FE_M * FE_TILE;
                    for (int k = 0; k < FE_M; k++) {
                        const float *se = x + 2 * k * FE_TILE, *so = se + FE_TILE;
                        float *dr = zr + fe_bitrev[k] * FE_TILE, *di = zi + fe_bitrev[k] * FE_TILE;
                        for (int f = 0; f < FE_TILE; f++) { dr[f] = se[f]; di[f] = so[f]; }
                    }
                    for (int half = 1; half < FE_M; half *= 2)
                        for (int start = 0; start < FE_M; start += 2 * half)
                            for (int j = 0; j < half; j++) {
                                float *ar = zr + (start + j) * FE_TILE, *ai = zi + (start + j) * FE_TILE;
                                fe_butterfly(ar, ai, ar + half * FE_TILE, ai + half * FE_TILE, fe_tw_re[half + j], fe_tw_im[half + j]);
                            }
                    for (int k = 0; k <= FE_M; k++) {
                        const int p = k == FE_M ? 0 : k, q = k == 0 ? 0 : FE_M - k;
                        fe_split(zr + p * FE_TILE, zi + p * FE_TILE, zr + q * FE_TILE, zi + q * FE_TILE,
                                 xr + k * FE_TILE, xi + k * FE_TILE, fe_split_re[k], fe_split_im[k]);
                    }
                }

                """)
        } else {
            let angles = (0..<n).map { Double($0) * -2 * Double.pi / Double(n) }
            c.append("""
                /* n = \(n) is not a power of two: a direct DFT over one table of e^(-2πij/n). */
                static const double fe_dft_re[FE_NFFT] = {\(doubles(angles.map(cos)))};
                static const double fe_dft_im[FE_NFFT] = {\(doubles(angles.map(sin)))};

                static void fe_rfft(const float *x, float *xr, float *xi, float *work) {
                    (void)work;
                    for (int k = 0; k < FE_BINS; k++) {
                        double sr[FE_TILE] = {0}, si[FE_TILE] = {0};
                        for (int j = 0; j < FE_NFFT; j++) {
                            const int t = (int)(((long long)k * j) % FE_NFFT);
                            for (int f = 0; f < FE_TILE; f++) {
                                sr[f] += x[j * FE_TILE + f] * fe_dft_re[t];
                                si[f] += x[j * FE_TILE + f] * fe_dft_im[t];
                            }
                        }
                        for (int f = 0; f < FE_TILE; f++) { xr[k * FE_TILE + f] = (float)sr[f]; xi[k * FE_TILE + f] = (float)si[f]; }
                    }
                }

                """)
        }
        if fe.scale == "log1p" && mel == nil {
            c.append("""
                /* log(1 + x), x ≥ 0: QEMLSignal's vectorLog1p (Cephes logf, max relative error ≈ 1e-7, with
                   musl's range reduction; the rounding of 1 + x corrected to first order). */
                static inline float fe_log1p(float x) {
                    const float u = 1.0f + x;
                    uint32_t ix;
                    memcpy(&ix, &u, 4);
                    ix += 0x3f800000u - 0x3f3504f3u;
                    const float e = (float)((int32_t)(ix >> 23) - 0x7f);
                    const uint32_t mb = (ix & 0x007fffffu) + 0x3f3504f3u;
                    float mf;
                    memcpy(&mf, &mb, 4);
                    const float m = mf - 1.0f, z = m * m;
                    float y = 7.0376836292e-2f;
                    y = y * m + -1.1514610310e-1f;
                    y = y * m + 1.1676998740e-1f;
                    y = y * m + -1.2420140846e-1f;
                    y = y * m + 1.4249322787e-1f;
                    y = y * m + -1.6668057665e-1f;
                    y = y * m + 2.0000714765e-1f;
                    y = y * m + -2.4999993993e-1f;
                    y = y * m + 3.3333331174e-1f;
                    y = y * m * z;
                    y = y + e * -2.12194440e-4f;
                    y = y - 0.5f * z;
                    const float log_u = (m + y) + e * 0.693359375f;
                    return log_u + (x - (u - 1.0f)) / u;
                }

                """)
        }
        let scaleExpr: String
        switch fe.scale {
        case "magnitude": scaleExpr = "sqrtf(p)"
        case "log1p": scaleExpr = mel == nil ? "fe_log1p(sqrtf(p))" : "sqrtf(p)"  // with mel bands: log1p after the bank
        default: scaleExpr = "p"  // power, and db (converted after the loop)
        }
        if fe.stft.padding == .reflect {
            c.append("""
                /* numpy's `reflect` index (edge not repeated) for any distance past the ends. */
                static long fe_reflect(long i, long n) {
                    if (n <= 1) return 0;
                    const long period = 2 * n - 2;
                    long k = i % period;
                    if (k < 0) k += period;
                    return k < n ? k : period - k;
                }

                """)
        }
        c.append("""
            /* The scaled |X|² of one bin over a tile of frames (vectorizes with -fno-math-errno: p ≥ 0). */
            static inline void fe_scale_tile(const float *restrict re, const float *restrict im, float *restrict out) {
                for (int f = 0; f < FE_TILE; f++) {
                    const float p = re[f] * re[f] + im[f] * im[f];
                    out[f] = \(scaleExpr);
                }
            }

            /* signal (count samples), or |signal| → spec [FE_BINS][FE_FRAMES], row 0 = 0 Hz: the frames t with
               need[t] (every frame when need is NULL; a stream keeps the others from its previous
               window). Returns how many frames it computed. */
            static int fe_spectrogram(const float *signal, size_t count, int rectify, float *padded, float *work, float *spec,
                                      const unsigned char *need) {
                const size_t n = count < FE_LENGTH ? count : FE_LENGTH;
                float *x = padded + FE_PAD;
                for (size_t i = 0; i < n; i++) x[i] = rectify ? fabsf(signal[i]) : signal[i];
                for (size_t i = n; i < FE_LENGTH; i++) x[i] = 0.0f;
                for (long i = 0; i < FE_PAD; i++) {
                    \(fe.stft.padding == .reflect
                        ? "padded[FE_PAD - 1 - i] = x[fe_reflect(-1 - i, FE_LENGTH)];\n        x[FE_LENGTH + i] = x[fe_reflect(FE_LENGTH + i, FE_LENGTH)];"
                        : "padded[FE_PAD - 1 - i] = 0.0f;\n        x[FE_LENGTH + i] = 0.0f;")
                }
                float *frame = work, *xr = frame + FE_NFFT * FE_TILE, *xi = xr + (FE_BINS + 1) * FE_TILE, *fft = xi + (FE_BINS + 1) * FE_TILE;
                int computed = 0;
                for (int t = 0; t < FE_FRAMES;) {
                    /* The next tile: up to FE_TILE frames that are needed. */
                    int idx[FE_TILE], valid = 0;
                    for (; t < FE_FRAMES && valid < FE_TILE; t++) if (!need || need[t]) idx[valid++] = t;
                    if (valid == 0) break;
                    for (int f = 0; f < FE_TILE; f++) {
                        /* Past the last frame the tile repeats its first (computed, never stored). */
                        const float *src = padded + (size_t)idx[f < valid ? f : 0] * FE_HOP;
                        for (int k = 0; k < FE_NFFT; k++) frame[k * FE_TILE + f] = src[k] * fe_window[k];
                    }
                    fe_rfft(frame, xr, xi, fft);
                    for (int b = 0; b < FE_BINS; b++) {
                        float v[FE_TILE];
                        fe_scale_tile(xr + b * FE_TILE, xi + b * FE_TILE, v);
                        for (int f = 0; f < valid; f++) spec[b * FE_FRAMES + idx[f]] = v[f];
                    }
                    computed += valid;
                }
                return computed;
            }

            """)
        if let mel {
            var first: [Int] = [], count: [Int] = [], offset: [Int] = [], weights: [Float] = []
            for m in 0..<mel.nMels {
                let row = mel.weights[(m * mel.bins)..<((m + 1) * mel.bins)]
                let lo = row.firstIndex { $0 != 0 } ?? row.startIndex, hi = (row.lastIndex { $0 != 0 } ?? (row.startIndex - 1)) + 1
                first.append(lo - row.startIndex)
                count.append(max(0, hi - lo))
                offset.append(weights.count)
                if hi > lo { weights.append(contentsOf: row[lo..<hi]) }
            }
            c.append("""
                /* Mel bands (Slaney, librosa's defaults): [FE_MAP_ROWS][FE_FRAMES] = bank · |X|\(fe.scale == "power" || fe.scale == "db" ? "²" : ""),
                   band m over bins [first, first + count), the bank's weights from offset. */
                static const int fe_mel_first[FE_MAP_ROWS] = {\(first.map(String.init).joined(separator: ","))};
                static const int fe_mel_count[FE_MAP_ROWS] = {\(count.map(String.init).joined(separator: ","))};
                static const int fe_mel_offset[FE_MAP_ROWS] = {\(offset.map(String.init).joined(separator: ","))};
                static const float fe_mel_w[\(max(1, weights.count))] = {\(floats(weights.isEmpty ? [0] : weights))};

                static void fe_mel(const float *spec, float *out) {
                    for (int m = 0; m < FE_MAP_ROWS; m++) {
                        float *o = out + m * FE_FRAMES;
                        for (int t = 0; t < FE_FRAMES; t++) o[t] = 0.0f;
                        for (int i = 0; i < fe_mel_count[m]; i++) {
                            const float w = fe_mel_w[fe_mel_offset[m] + i];
                            const float *s = spec + (fe_mel_first[m] + i) * FE_FRAMES;
                            for (int t = 0; t < FE_FRAMES; t++) o[t] += w * s[t];
                        }\(fe.scale == "log1p" ? "\n            for (int t = 0; t < FE_FRAMES; t++) o[t] = log1pf(o[t]);" : "")
                    }
                }

                """)
        }
        if fe.scale == "db" {
            let offset = 10 * log10(max(fe.powerAmin, abs(fe.powerRef)))
            c.append("""
                /* librosa's power_to_db: 10·log10(max(amin, S)) − 10·log10(max(amin, ref))\(fe.topDB != nil ? ", floored at max − top_db" : ""). */
                static void fe_db(float *s, size_t count) {
                    double peak = -1.0 / 0.0;
                    for (size_t i = 0; i < count; i++) {
                        const double v = 10.0 * log10(s[i] > \(cDouble(fe.powerAmin)) ? (double)s[i] : \(cDouble(fe.powerAmin))) - \(cDouble(offset));
                        s[i] = (float)v;
                        if (v > peak) peak = v;
                    }
                    \(fe.topDB.map { "const float floor_ = (float)(peak - \(cDouble($0)));\n    for (size_t i = 0; i < count; i++) if (s[i] < floor_) s[i] = floor_;" } ?? "(void)peak;")
                }

                """)
        }
        if let resize = fe.resize {
            let rowTaps = taps(from: mapRows(fe), to: resize.height), colTaps = taps(from: frames, to: resize.width)
            c.append("""
                /* Bilinear resize [FE_MAP_ROWS][FE_FRAMES] → [FE_ROWS][FE_COLS], half-pixel centres, no antialiasing
                   (torch interpolate align_corners=False); the taps are QEMLSignal's. */
                static const int fe_row_lo[FE_ROWS] = {\(rowTaps.map { String($0.lo) }.joined(separator: ","))};
                static const int fe_row_hi[FE_ROWS] = {\(rowTaps.map { String($0.hi) }.joined(separator: ","))};
                static const float fe_row_frac[FE_ROWS] = {\(floats(rowTaps.map(\.frac)))};
                static const int fe_col_lo[FE_COLS] = {\(colTaps.map { String($0.lo) }.joined(separator: ","))};
                static const int fe_col_hi[FE_COLS] = {\(colTaps.map { String($0.hi) }.joined(separator: ","))};
                static const float fe_col_frac[FE_COLS] = {\(floats(colTaps.map(\.frac)))};

                static void fe_resize(const float *x, float *out) {
                    for (int i = 0; i < FE_ROWS; i++) {
                        const float *lo = x + fe_row_lo[i] * FE_FRAMES, *hi = x + fe_row_hi[i] * FE_FRAMES;
                        const float rf = fe_row_frac[i];
                        for (int j = 0; j < FE_COLS; j++) {
                            const float cf = fe_col_frac[j];
                            const float top = (1 - cf) * lo[fe_col_lo[j]] + cf * lo[fe_col_hi[j]];
                            const float bottom = (1 - cf) * hi[fe_col_lo[j]] + cf * hi[fe_col_hi[j]];
                            out[i * FE_COLS + j] = (1 - rf) * top + rf * bottom;
                        }
                    }
                }

                """)
        }
        if fe.standardize {
            c.append("""
                /* (x − mean) / std, population std, accumulated in double; constant input → zeros. */
                static void fe_standardize(float *s, size_t count) {
                    double sum = 0, sq = 0;
                    for (size_t i = 0; i < count; i++) sum += s[i];
                    const double mean = sum / (double)count;
                    for (size_t i = 0; i < count; i++) { const double d = s[i] - mean; sq += d * d; }
                    const double std_ = sqrt(sq / (double)count);
                    for (size_t i = 0; i < count; i++) s[i] = std_ > 0 ? (float)((s[i] - mean) / std_) : 0.0f;
                }

                """)
        }
        let map = mel != nil ? "spec + FE_BINS * FE_FRAMES" : "spec + FE_BIN0 * FE_FRAMES"
        let place = fe.resize != nil ? "    fe_resize(map, out);\n" : "    memcpy(out, map, sizeof(float) * FE_PLANE_FLOATS);\n"
        c.append("""
            /* The network input [FE_CHANNELS][FE_ROWS][FE_COLS] for one signal, written to `resized`. A stream
               passes one spectrogram per channel (`stride` floats apart) and the frames to compute;
               a one-shot run passes one spectrogram for every channel (stride 0) and need NULL.
               Returns the frames computed over all channels. */
            static int fe_frames(const float *signal, size_t count, float *padded, float *work, float *specs, size_t stride,
                                 const unsigned char *need, float *resized) {
                int computed = 0;
                for (int ch = 0; ch < FE_CHANNELS; ch++) {
                    float *spec = specs + (size_t)ch * stride;
                    float *map = \(map), *out = resized + (size_t)ch * FE_PLANE_FLOATS;
                    computed += fe_spectrogram(signal, count, fe_rectify[ch], padded, work, spec, need);
            \(mel != nil ? "        fe_mel(spec, map);\n" : "")\(fe.scale == "db" ? "        fe_db(map, FE_MAP_FLOATS);\n" : "")    \(place)\(fe.standardize ? "        fe_standardize(out, FE_PLANE_FLOATS);\n" : "")    }
                return computed;
            }

            static float *fe_run(const float *signal, size_t count, float *padded, float *work, float *spec, float *resized) {
                fe_frames(signal, count, padded, work, spec, 0, NULL, resized);
                return resized;
            }
            """)
        return c.joined(separator: "\n")
    }

    /// QEMLSignal's bilinear taps (`bilinearResize`), in the same Float arithmetic.
    static func taps(from n: Int, to m: Int) -> [(lo: Int, hi: Int, frac: Float)] {
        let scale = Float(n) / Float(m)
        return (0..<m).map { i in
            let src = max(0, (Float(i) + 0.5) * scale - 0.5)
            let lo = min(Int(src), n - 1)
            return (lo, min(lo + 1, n - 1), src - Float(lo))
        }
    }

    static func floats(_ v: [Float]) -> String { wrap(v.map(cFloat)) }
    static func doubles(_ v: [Double]) -> String { wrap(v.map(cDouble)) }

    /// Comma-separated, eight per line.
    static func wrap(_ items: [String]) -> String {
        stride(from: 0, to: items.count, by: 8).map { "\n    " + items[$0..<min($0 + 8, items.count)].joined(separator: ", ") }
            .joined(separator: ",") + "\n"
    }
}
