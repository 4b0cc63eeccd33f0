/// NumPy's `.npy` format (numpy.lib.format): magic `\x93NUMPY`, version, header length, a
/// Python-literal dict `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, then the
/// raw C-order data. Versions 1.0, 2.0 and 3.0 are read; 1.0 is written.
public enum NPY {
    /// Element types read (converted to f32). Integers convert exactly up to 2^24.
    public static let supportedDescrs = ["<f4", "<f8", "<f2", "<i2", "<i4", "<i8", "|u1", "|i1"]

    public static func read(path: String) throws(FileFormatError) -> Tensor {
        let file = try MappedFile(path: path)
        return try decode(file.bytes, path: path)
    }

    /// Writes a v1.0 `<f4` C-order file atomically (temporary file + rename).
    public static func write(_ tensor: Tensor, to path: String, overwrite: Bool = false) throws(FileFormatError) {
        try writeFileAtomically(encode(tensor), to: path, overwrite: overwrite)
    }

    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
        // Pad with spaces and a final newline so the data starts 64-byte aligned, as NumPy does.
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        out.append(contentsOf: header)
        out.reserveCapacity(out.count + 4 * tensor.count)
        for f in tensor.data { withUnsafeBytes(of: f.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(FileFormatError) -> Tensor {
        func bad(_ place: String, _ message: String, _ fix: String? = nil) -> FileFormatError {
            FileFormatError(path: path, place: place, message: message, fix: fix)
        }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw bad("byte 0", "not an .npy file (it does not start with \\x93NUMPY)", "write the array with numpy.save")
        }
        let (major, minor) = (bytes[6], bytes[7])
        let headerStart: Int, headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("byte 8", "the file ends inside the header length", "the file is truncated") }
            headerStart = 12
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        default:
            throw bad("byte 6", "format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)", "write the array with numpy.save")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw bad("byte 8", "the header length \(headerLength) runs past the end of the \(bytes.count)-byte file", "the file is truncated")
        }
        let headerText = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        let dict: [String: PyLiteral]
        do { dict = try PyLiteralParser.parseDict(headerText) } catch {
            throw bad("header", "the header is not a Python dict literal: \(error.message)", "the file is damaged")
        }
        for key in dict.keys where !["descr", "fortran_order", "shape"].contains(key) {
            throw bad("header", "unexpected header key '\(key)'", "the file is damaged")
        }
        guard case .string(let descr)? = dict["descr"] else {
            if case .list? = dict["descr"] {
                throw bad("header", "structured (record) arrays are not supported", "save a plain numeric array")
            }
            throw bad("header", "'descr' is missing or not a string")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw bad("header", "'fortran_order' is missing or not True/False") }
        guard case .tuple(let dims)? = dict["shape"] else { throw bad("header", "'shape' is missing or not a tuple") }
        var shape: [Int] = []
        var count = 1
        for d in dims {
            guard case .int(let v) = d, v >= 0 else { throw bad("header", "'shape' must hold non-negative integers") }
            let (p, o) = count.multipliedReportingOverflow(by: v)
            guard !o, p < Int(Int32.max) else { throw bad("header", "shape \(describeShape(shape + [v])) is too large") }
            shape.append(v)
            count = p
        }
        if fortran {
            throw bad("header", "Fortran-ordered (column-major) arrays are not supported",
                      "save a C-ordered copy: numpy.save(path, numpy.ascontiguousarray(a))")
        }
        let supported = "supported: " + supportedDescrs.joined(separator: " ")
        let chars = Array(descr)
        if chars.count >= 2, chars[1] == "O" {
            throw bad("header", "object arrays are not supported; \(supported)", "save a numeric array, e.g. a.astype(numpy.float32)")
        }
        guard chars.count >= 3, let size = Int(String(chars[2...])), size > 0 else {
            throw bad("header", "unknown dtype '\(descr)'; \(supported)", "convert before saving, e.g. a.astype(numpy.float32)")
        }
        let (order, typeChar) = (chars[0], chars[1])
        if order == ">" && size > 1 {
            throw bad("header", "big-endian dtype '\(descr)' is not supported; \(supported)",
                      "convert to little-endian before saving: a.astype(a.dtype.newbyteorder('<'))")
        }
        // One-byte types have no byte order; NumPy writes them with '|'.
        let normalized = (size == 1 ? "|" : String(order)) + String(typeChar) + String(size)
        guard supportedDescrs.contains(normalized) else {
            throw bad("header", "dtype '\(descr)' is not supported; \(supported)", "convert before saving, e.g. a.astype(numpy.float32)")
        }
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        let needed = count * size
        if available < needed {
            throw bad("byte \(dataStart)", "shape \(describeShape(shape)) of \(descr) needs \(needed) data bytes but the file has \(available)",
                      "the file is truncated: write it again")
        }
        if available > needed {
            throw bad("byte \(dataStart + needed)", "\(available - needed) bytes follow the \(needed) bytes that shape \(describeShape(shape)) of \(descr) needs",
                      "the header does not match the data: write the file again")
        }
        let src = UnsafeRawBufferPointer(rebasing: bytes[dataStart...])
        let data = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch normalized {
            case "<f4": for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case "<f8": for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case "<f2": for i in 0..<count { out[i] = HalfFloat.float(fromHalf: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case "<i2": for i in 0..<count { out[i] = Float(Int16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case "<i4": for i in 0..<count { out[i] = Float(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case "<i8": for i in 0..<count { out[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            case "|u1": for i in 0..<count { out[i] = Float(src[i]) }
            default: for i in 0..<count { out[i] = Float(Int8(bitPattern: src[i])) }  // |i1
            }
            initialized = count
        }
        return Tensor(shape: shape, data: data)
    }
}

/// The subset of Python literals an .npy header uses.
enum PyLiteral: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case tuple([PyLiteral])
    case list([PyLiteral])
    case dict([String: PyLiteral])
}

struct PyLiteralParser {
    struct Failure: Error { var message: String }
    private let chars: [Character]
    private var i = 0

    static func parseDict(_ text: String) throws(Failure) -> [String: PyLiteral] {
        var p = PyLiteralParser(chars: Array(text))
        p.skip()
        guard case .dict(let d) = try p.value(depth: 0) else { throw Failure(message: "expected a dict") }
        p.skip()
        guard p.i == p.chars.count else { throw Failure(message: "unexpected text after the dict") }
        return d
    }

    private init(chars: [Character]) { self.chars = chars }

    private mutating func skip() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

    private mutating func value(depth: Int) throws(Failure) -> PyLiteral {
        guard depth < 16 else { throw Failure(message: "nested too deeply") }
        skip()
        guard i < chars.count else { throw Failure(message: "the header ends early") }
        let c = chars[i]
        switch c {
        case "'", "\"":
            i += 1
            var s = ""
            while i < chars.count, chars[i] != c {
                if chars[i] == "\\" { throw Failure(message: "escapes in strings are not supported") }
                s.append(chars[i]); i += 1
            }
            guard i < chars.count else { throw Failure(message: "unterminated string") }
            i += 1
            return .string(s)
        case "{":
            i += 1
            var d: [String: PyLiteral] = [:]
            while true {
                skip()
                if i < chars.count, chars[i] == "}" { i += 1; return .dict(d) }
                guard case .string(let k) = try value(depth: depth + 1) else { throw Failure(message: "dict keys must be strings") }
                skip()
                guard i < chars.count, chars[i] == ":" else { throw Failure(message: "expected ':' after '\(k)'") }
                i += 1
                guard d[k] == nil else { throw Failure(message: "duplicate key '\(k)'") }
                d[k] = try value(depth: depth + 1)
                skip()
                if i < chars.count, chars[i] == "," { i += 1; continue }
                guard i < chars.count, chars[i] == "}" else { throw Failure(message: "expected ',' or '}'") }
            }
        case "(", "[":
            let close: Character = c == "(" ? ")" : "]"
            i += 1
            var items: [PyLiteral] = []
            while true {
                skip()
                if i < chars.count, chars[i] == close { i += 1; return c == "(" ? .tuple(items) : .list(items) }
                items.append(try value(depth: depth + 1))
                skip()
                if i < chars.count, chars[i] == "," { i += 1; continue }
                guard i < chars.count, chars[i] == close else { throw Failure(message: "expected ',' or '\(close)'") }
            }
        default:
            var word = ""
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "-" || chars[i] == "_" { word.append(chars[i]); i += 1 }
            if word == "True" { return .bool(true) }
            if word == "False" { return .bool(false) }
            if word.hasSuffix("L") { word.removeLast() }  // Python 2 long literals
            guard let v = Int(word) else { throw Failure(message: word.isEmpty ? "unexpected character '\(c)'" : "unexpected '\(word)'") }
            return .int(v)
        }
    }
}
