import QEMLIR

/// A state vector of `qubits` wires in double precision, stored as separate real and imaginary
/// arrays so that gate loops over contiguous amplitudes vectorize. Basis index bit `qubits-1-w`
/// belongs to wire `w` (wire 0 is the most significant bit).
public struct StateVector: Sendable {
    public let qubits: Int
    public var re: [Double]
    public var im: [Double]

    public var count: Int { 1 << qubits }

    /// |0…0⟩
    public init(qubits: Int) {
        self.qubits = qubits
        re = [Double](repeating: 0, count: 1 << qubits)
        im = [Double](repeating: 0, count: 1 << qubits)
        re[0] = 1
    }

    public mutating func reset() {
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in
                _ = r.initialize(from: repeatElement(0, count: r.count))
                _ = i.initialize(from: repeatElement(0, count: i.count))
                r[0] = 1
            }
        }
    }

    public subscript(index: Int) -> Complex { Complex(re[index], im[index]) }

    @inlinable func bit(_ wire: Int) -> Int { 1 << (qubits - 1 - wire) }

    // MARK: gates

    /// Applies a 2×2 matrix to `wire`, in place.
    public mutating func apply(_ m: GateMatrix, wire: Int) {
        let s = bit(wire), n = count
        let (a, b, c, d) = (m.entries[0], m.entries[1], m.entries[2], m.entries[3])
        let diagonal = b == .zero && c == .zero
        re.withUnsafeMutableBufferPointer { rp in
            im.withUnsafeMutableBufferPointer { ip in
                let r = rp.baseAddress.unsafelyUnwrapped, i = ip.baseAddress.unsafelyUnwrapped
                var base = 0
                while base < n {
                    if diagonal {
                        for k in base..<(base + s) {
                            let x0r = r[k], x0i = i[k], x1r = r[k + s], x1i = i[k + s]
                            r[k] = a.re * x0r - a.im * x0i; i[k] = a.re * x0i + a.im * x0r
                            r[k + s] = d.re * x1r - d.im * x1i; i[k + s] = d.re * x1i + d.im * x1r
                        }
                    } else {
                        for k in base..<(base + s) {
                            let x0r = r[k], x0i = i[k], x1r = r[k + s], x1i = i[k + s]
                            r[k] = a.re * x0r - a.im * x0i + b.re * x1r - b.im * x1i
                            i[k] = a.re * x0i + a.im * x0r + b.re * x1i + b.im * x1r
                            r[k + s] = c.re * x0r - c.im * x0i + d.re * x1r - d.im * x1i
                            i[k + s] = c.re * x0i + c.im * x0r + d.re * x1i + d.im * x1r
                        }
                    }
                    base += 2 * s
                }
            }
        }
    }

    /// Applies a 2^k×2^k matrix to `wires` (wires[0] the most significant bit of the matrix index), in place.
    public mutating func apply(_ m: GateMatrix, wires: [Int]) {
        if wires.count == 1 { apply(m, wire: wires[0]); return }
        let k = wires.count, dim = 1 << k
        // Offsets of the 2^k amplitudes of one group relative to its base index.
        let offsets = basisOffsets(wires.map { qubits - 1 - $0 })
        let positions = wires.map { qubits - 1 - $0 }.sorted()
        if m.isDiagonal { applyDiagonal(m, offsets: offsets, positions: positions); return }
        let mr = m.entries.map(\.re), mi = m.entries.map(\.im)
        let groups = count >> k
        // Groups whose base indices are consecutive (below the lowest touched bit) run in SIMD lanes.
        let run = 1 << positions[0]
        re.withUnsafeMutableBufferPointer { rp in
            im.withUnsafeMutableBufferPointer { ip in
                let r = rp.baseAddress.unsafelyUnwrapped, im = ip.baseAddress.unsafelyUnwrapped
                mr.withUnsafeBufferPointer { mrp in
                    mi.withUnsafeBufferPointer { mip in
                        offsets.withUnsafeBufferPointer { op in
                            let ar = mrp.baseAddress.unsafelyUnwrapped, ai = mip.baseAddress.unsafelyUnwrapped
                            let off = op.baseAddress.unsafelyUnwrapped
                            if run >= 4 {
                                withUnsafeTemporaryAllocation(of: SIMD4<Double>.self, capacity: 2 * dim) { scratch in
                                    let xr = scratch.baseAddress.unsafelyUnwrapped, xi = xr + dim
                                    var g = 0
                                    while g < groups {
                                        let base = insertZeroBits(g, positions)
                                        var l = 0
                                        while l < run {
                                            for j in 0..<dim {
                                                xr[j] = UnsafeRawPointer(r + base + off[j] + l).loadUnaligned(as: SIMD4<Double>.self)
                                                xi[j] = UnsafeRawPointer(im + base + off[j] + l).loadUnaligned(as: SIMD4<Double>.self)
                                            }
                                            for row in 0..<dim {
                                                let (accR, accI) = blockRow(row, dim: dim, ar, ai, xr, xi)
                                                UnsafeMutableRawPointer(r + base + off[row] + l).storeBytes(of: accR, as: SIMD4<Double>.self)
                                                UnsafeMutableRawPointer(im + base + off[row] + l).storeBytes(of: accI, as: SIMD4<Double>.self)
                                            }
                                            l += 4
                                        }
                                        g += run
                                    }
                                }
                            } else if groups >= 4 {
                                // The block touches one of the two lowest bits: four groups per SIMD
                                // lane set, amplitudes gathered and scattered, the 2^k×2^k product vectorised.
                                withUnsafeTemporaryAllocation(of: SIMD4<Double>.self, capacity: 2 * dim) { scratch in
                                    let xr = scratch.baseAddress.unsafelyUnwrapped, xi = xr + dim
                                    var g = 0
                                    while g < groups {
                                        let b0 = insertZeroBits(g, positions), b1 = insertZeroBits(g + 1, positions)
                                        let b2 = insertZeroBits(g + 2, positions), b3 = insertZeroBits(g + 3, positions)
                                        for j in 0..<dim {
                                            let o = off[j]
                                            xr[j] = SIMD4(r[b0 + o], r[b1 + o], r[b2 + o], r[b3 + o])
                                            xi[j] = SIMD4(im[b0 + o], im[b1 + o], im[b2 + o], im[b3 + o])
                                        }
                                        for row in 0..<dim {
                                            let (accR, accI) = blockRow(row, dim: dim, ar, ai, xr, xi)
                                            let o = off[row]
                                            r[b0 + o] = accR[0]; r[b1 + o] = accR[1]; r[b2 + o] = accR[2]; r[b3 + o] = accR[3]
                                            im[b0 + o] = accI[0]; im[b1 + o] = accI[1]; im[b2 + o] = accI[2]; im[b3 + o] = accI[3]
                                        }
                                        g += 4
                                    }
                                }
                            } else {
                                withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * dim) { scratch in
                                    let xr = scratch.baseAddress.unsafelyUnwrapped, xi = xr + dim
                                    for g in 0..<groups {
                                        let base = insertZeroBits(g, positions)
                                        for j in 0..<dim { xr[j] = r[base + off[j]]; xi[j] = im[base + off[j]] }
                                        for row in 0..<dim {
                                            var accR = 0.0, accI = 0.0
                                            let mrow = ar + row * dim, irow = ai + row * dim
                                            for j in 0..<dim {
                                                let cr = mrow[j], ci = irow[j]
                                                accR += cr * xr[j] - ci * xi[j]
                                                accI += cr * xi[j] + ci * xr[j]
                                            }
                                            r[base + off[row]] = accR
                                            im[base + off[row]] = accI
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A diagonal matrix: one complex multiply per amplitude.
    private mutating func applyDiagonal(_ m: GateMatrix, offsets: [Int], positions: [Int]) {
        let dim = offsets.count, groups = count >> positions.count
        let d = (0..<dim).map { m[$0, $0] }
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in
                for g in 0..<groups {
                    let base = insertZeroBits(g, positions)
                    for j in 0..<dim where d[j] != .one {
                        let a = base + offsets[j], xr = r[a], xi = i[a]
                        r[a] = d[j].re * xr - d[j].im * xi
                        i[a] = d[j].re * xi + d[j].im * xr
                    }
                }
            }
        }
    }

    // MARK: measurements

    /// ⟨P⟩ on `wire`.
    public func expectation(_ p: Pauli, wire: Int) -> Double {
        let s = bit(wire), n = count
        var acc = 0.0
        re.withUnsafeBufferPointer { r in
            im.withUnsafeBufferPointer { i in
                var base = 0
                while base < n {
                    for k in base..<(base + s) {
                        switch p {
                        case .z: acc += r[k] * r[k] + i[k] * i[k] - r[k + s] * r[k + s] - i[k + s] * i[k + s]
                        // 2 Re(conj(a0) a1)
                        case .x: acc += 2 * (r[k] * r[k + s] + i[k] * i[k + s])
                        // 2 Im(conj(a0) a1)
                        case .y: acc += 2 * (r[k] * i[k + s] - i[k] * r[k + s])
                        }
                    }
                    base += 2 * s
                }
            }
        }
        return acc
    }

    /// Probabilities of the 2^k basis states of `wires` (wires[0] most significant).
    public func probabilities(_ wires: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: 1 << wires.count)
        for idx in 0..<count {
            var j = 0
            for w in wires { j = (j << 1) | ((idx >> (qubits - 1 - w)) & 1) }
            out[j] += re[idx] * re[idx] + im[idx] * im[idx]
        }
        return out
    }

    /// ⟨Z⟩ of every wire from one pass over the amplitudes and a halving per wire: the
    /// probabilities are folded in halves, and before each fold the difference of the two halves'
    /// sums is ⟨Z⟩ of the wire that owns the top bit. 2·2^n additions in all, instead of one pass
    /// over the state per wire.
    public func zExpectations() -> [Double] {
        var out = [Double](repeating: 0, count: qubits)
        var half = count / 2
        var p = [Double](repeating: 0, count: max(half, 1))
        re.withUnsafeBufferPointer { r in
            im.withUnsafeBufferPointer { i in
                p.withUnsafeMutableBufferPointer { p in
                    var s0 = 0.0, s1 = 0.0
                    for k in 0..<half {
                        let a = r[k] * r[k] + i[k] * i[k], b = r[k + half] * r[k + half] + i[k + half] * i[k + half]
                        s0 += a; s1 += b
                        p[k] = a + b
                    }
                    out[0] = s0 - s1
                    for wire in 1..<max(qubits, 1) {
                        half /= 2
                        s0 = 0; s1 = 0
                        for k in 0..<half {
                            s0 += p[k]; s1 += p[k + half]
                            p[k] += p[k + half]
                        }
                        out[wire] = s0 - s1
                    }
                }
            }
        }
        return out
    }

    /// Appends every measurement's values to `out`, in order.
    public func measure(_ measurements: [Measurement], into out: inout [Double]) {
        let zCount = measurements.reduce(0) { n, m in if case .expval(.z, _) = m { return n + 1 }; return n }
        let z = zCount > 1 ? zExpectations() : nil
        for m in measurements {
            switch m {
            case .expval(.z, let w) where z != nil: out.append(z![w])
            case .expval(let p, let w): out.append(expectation(p, wire: w))
            case .probs(let ws): out.append(contentsOf: probabilities(ws))
            }
        }
    }
}

/// For a gate whose i-th wire is bit `positions[i]` of an index (positions[0] the gate's most
/// significant bit): the offset of each of the gate's 2^k basis states from the index with all
/// those bits zero.
func basisOffsets(_ positions: [Int]) -> [Int] {
    let k = positions.count
    return (0..<(1 << k)).map { j in
        positions.enumerated().reduce(0) { o, t in j & (1 << (k - 1 - t.offset)) != 0 ? o | (1 << t.element) : o }
    }
}

/// `g` with a zero bit inserted at each of `positions` (ascending): the base index of group g.
@inline(__always)
func insertZeroBits(_ g: Int, _ positions: [Int]) -> Int {
    var base = g
    for p in positions { base = ((base >> p) << (p + 1)) | (base & ((1 << p) - 1)) }
    return base
}

/// Row `row` of a 2^k×2^k complex block (`ar`, `ai`: real and imaginary parts, row-major)
/// times the gathered amplitudes `xr`, `xi` of four groups at once.
@inline(__always)
func blockRow(_ row: Int, dim: Int, _ ar: UnsafePointer<Double>, _ ai: UnsafePointer<Double>,
              _ xr: UnsafeMutablePointer<SIMD4<Double>>, _ xi: UnsafeMutablePointer<SIMD4<Double>>) -> (SIMD4<Double>, SIMD4<Double>) {
    var accR = SIMD4<Double>(), accI = SIMD4<Double>()
    let mrow = ar + row * dim, irow = ai + row * dim
    for j in 0..<dim {
        let cr = mrow[j], ci = irow[j]
        accR += cr * xr[j] - ci * xi[j]
        accI += cr * xi[j] + ci * xr[j]
    }
    return (accR, accI)
}
