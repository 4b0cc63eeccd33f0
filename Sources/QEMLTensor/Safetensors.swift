/// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
/// header length N, N bytes of JSON `{"name": {"dtype", "shape", "data_offsets": [begin, end]},
/// "__metadata__": {str: str}}`, then the data section the offsets point into. This is what
/// `safetensors.torch.save_file(model.state_dict(), path)` writes, so PyTorch weights load as is.
public enum Safetensors {
    /// Headers beyond this are not weights files (the format's own reference reader uses the same bound).
    public static let maxHeaderLength = 100_000_000

    /// Every tensor in the file, converted to f32.
    public static func read(path: String) throws(FileFormatError) -> [String: Tensor] {
        try SafetensorsFile(path: path).tensors()
    }

    /// Writes f32 tensors, names sorted, atomically (temporary file + rename).
    public static func write(_ tensors: [String: Tensor], to path: String, metadata: [String: String] = [:],
                             overwrite: Bool = false) throws(FileFormatError) {
        try writeFileAtomically(encode(tensors, metadata: metadata, path: path), to: path, overwrite: overwrite)
    }

    /// The file's bytes (exposed for tests that build damaged files from good ones).
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:], path: String = "<memory>") throws(FileFormatError) -> [UInt8] {
        try encode(stored: tensors.mapValues { StoredTensor($0) }, metadata: metadata, path: path)
    }

    /// Writes tensors of any supported dtype (`qemlc quantize`: I8 and BF16 beside F32), names
    /// sorted, atomically.
    public static func write(stored tensors: [String: StoredTensor], to path: String, metadata: [String: String] = [:],
                             overwrite: Bool = false) throws(FileFormatError) {
        try writeFileAtomically(encode(stored: tensors, metadata: metadata, path: path), to: path, overwrite: overwrite)
    }

    public static func encode(stored tensors: [String: StoredTensor], metadata: [String: String] = [:], path: String = "<memory>") throws(FileFormatError) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonQuote($0)):\(jsonQuote(metadata[$0]!))" }
            entries.append("\"__metadata__\":{" + m.joined(separator: ",") + "}")
        }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            guard !name.isEmpty, name != "__metadata__" else {
                throw FileFormatError(path: path, place: "tensor '\(name)'", message: "this name cannot be stored in a safetensors file",
                                      fix: "rename the tensor")
            }
            let t = tensors[name]!
            let end = offset + t.bytes.count
            entries.append("\(jsonQuote(name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        var n = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for name in names { out.append(contentsOf: tensors[name]!.bytes) }
        return out
    }
}

/// A tensor as a safetensors file stores it: dtype, shape and little-endian bytes.
public struct StoredTensor: Sendable, Equatable {
    public var dtype: SafetensorsDType
    public var shape: [Int]
    public var bytes: [UInt8]

    /// F32.
    public init(_ t: Tensor) {
        dtype = .F32
        shape = t.shape
        var b: [UInt8] = []
        b.reserveCapacity(4 * t.count)
        for f in t.data { withUnsafeBytes(of: f.bitPattern.littleEndian) { b.append(contentsOf: $0) } }
        bytes = b
    }

    /// I8.
    public init(int8 values: [Int8], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "shape \(shape) does not hold \(values.count) elements")
        dtype = .I8
        self.shape = shape
        bytes = values.map { UInt8(bitPattern: $0) }
    }

    /// BF16, from the 16-bit patterns.
    public init(bf16 bits: [UInt16], shape: [Int]) {
        precondition(bits.count == shape.reduce(1, *), "shape \(shape) does not hold \(bits.count) elements")
        dtype = .BF16
        self.shape = shape
        var b: [UInt8] = []
        b.reserveCapacity(2 * bits.count)
        for v in bits { withUnsafeBytes(of: v.littleEndian) { b.append(contentsOf: $0) } }
        bytes = b
    }
}

/// Element types a safetensors tensor may have that qemlc converts to f32. Integers are read
/// too: a PyTorch `state_dict` carries BatchNorm's I64 `num_batches_tracked` counters, so
/// `save_file(model.state_dict())` loads as is (f32 holds integers exactly up to 2^24).
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case F32, F16, BF16, F64, I64, I32, I16, I8, U8

    public var byteSize: Int {
        switch self {
        case .F32, .I32: return 4
        case .F16, .BF16, .I16: return 2
        case .F64, .I64: return 8
        case .I8, .U8: return 1
        }
    }

    static var supportedList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// One tensor's header entry: enough to check shapes before decoding anything.
public struct SafetensorsEntry: Sendable, Equatable {
    public var name: String
    public var dtype: SafetensorsDType
    public var shape: [Int]
    /// Absolute byte range in the file.
    public var byteRange: Range<Int>
}

/// A memory-mapped safetensors file with a validated header: lists names, shapes and dtypes
/// without decoding, and decodes tensors on demand.
public final class SafetensorsFile: Sendable {
    public let path: String
    public let metadata: [String: String]
    /// Entries sorted by name.
    public let entries: [SafetensorsEntry]
    private let index: [String: Int]
    private let file: MappedFile

    public init(path: String) throws(FileFormatError) {
        self.path = path
        file = try MappedFile(path: path)
        func bad(_ place: String, _ message: String, _ fix: String? = nil) -> FileFormatError {
            FileFormatError(path: path, place: place, message: message,
                            fix: fix ?? "the header is damaged or was not written by a safetensors writer: save the tensors again (safetensors' save_file)")
        }
        let size = file.count
        guard size >= 8 else {
            throw bad("byte 0", "the file is \(size) bytes long; a safetensors file starts with an 8-byte header length",
                      "the file is truncated or not a safetensors file: write it again with safetensors' save_file")
        }
        let n = file.littleEndianUInt(at: 0, size: 8)
        guard n <= UInt64(Safetensors.maxHeaderLength) else {
            throw bad("byte 0", "the header length \(n) is larger than the \(Safetensors.maxHeaderLength)-byte limit",
                      "this is not a safetensors file (or its first 8 bytes are damaged)")
        }
        let headerLength = Int(n)
        guard 8 + headerLength <= size else {
            throw bad("byte 0", "the header length \(headerLength) runs past the end of the \(size)-byte file",
                      "the file is truncated: copy or write it again")
        }
        let headerBytes = Array(file.bytes[8..<8 + headerLength])
        let json: JSONValue
        do { json = try JSONParser.parse(headerBytes) } catch {
            throw bad("header byte \(8 + error.offset)", "the header is not valid JSON: \(error.message)",
                      "the file is damaged or not a safetensors file")
        }
        guard case .object(let fields) = json else {
            throw bad("header", "the header must be a JSON object, got \(json.kindName)", "the file is damaged or not a safetensors file")
        }
        let dataStart = 8 + headerLength
        let dataSize = size - dataStart
        var meta: [String: String] = [:]
        var list: [SafetensorsEntry] = []
        for (name, value) in fields {
            if name == "__metadata__" {
                guard case .object(let m) = value else { throw bad("header '__metadata__'", "must be an object of strings, got \(value.kindName)") }
                for (k, v) in m {
                    guard case .string(let s) = v else { throw bad("header '__metadata__'", "value of '\(k)' must be a string, got \(v.kindName)") }
                    meta[k] = s
                }
                continue
            }
            let place = "tensor '\(name)'"
            guard case .object(let info) = value else { throw bad(place, "the entry must be an object, got \(value.kindName)") }
            func field(_ key: String) throws(FileFormatError) -> JSONValue {
                guard let v = info.first(where: { $0.0 == key })?.1 else { throw bad(place, "the entry has no '\(key)'") }
                return v
            }
            guard case .string(let dtypeName) = try field("dtype") else { throw bad(place, "'dtype' must be a string") }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw bad(place, "dtype \(dtypeName) is not supported; supported dtypes: \(SafetensorsDType.supportedList)",
                          "convert the tensor to a floating-point type before saving (e.g. tensor.float() in PyTorch)")
            }
            func ints(_ key: String, count: Int?) throws(FileFormatError) -> [Int] {
                guard case .array(let items) = try field(key) else { throw bad(place, "'\(key)' must be an array of integers") }
                var out: [Int] = []
                for item in items {
                    guard case .int(let v) = item, v >= 0 else { throw bad(place, "'\(key)' must hold non-negative integers") }
                    out.append(v)
                }
                if let count, out.count != count { throw bad(place, "'\(key)' must have \(count) entries, got \(out.count)") }
                return out
            }
            let shape = try ints("shape", count: nil)
            let offsets = try ints("data_offsets", count: 2)
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else { throw bad(place, "data_offsets [\(begin), \(end)]: the end is before the beginning") }
            guard end <= dataSize else {
                throw bad(place, "data_offsets [\(begin), \(end)] run past the \(dataSize)-byte data section (file byte \(dataStart + end) of \(size))",
                          "the file is truncated: copy or write it again")
            }
            var elements = 1
            for d in shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw bad(place, "shape \(describeShape(shape)) is too large") }
                elements = p
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytes == end - begin else {
                throw bad(place, "shape \(describeShape(shape)) of \(dtype.rawValue) needs \(elements) × \(dtype.byteSize) bytes but data_offsets [\(begin), \(end)] hold \(end - begin)",
                          "the header is inconsistent: write the file again")
            }
            list.append(SafetensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: dataStart + begin..<dataStart + end))
        }
        // Tensors must not share bytes.
        let byStart = list.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (a, b) in zip(byStart, byStart.dropFirst()) where b.byteRange.lowerBound < a.byteRange.upperBound {
            throw bad("tensor '\(b.name)'", "its data (file bytes \(b.byteRange.lowerBound)..<\(b.byteRange.upperBound)) overlaps tensor '\(a.name)' (\(a.byteRange.lowerBound)..<\(a.byteRange.upperBound))",
                      "the header is inconsistent: write the file again")
        }
        metadata = meta
        entries = list.sorted { $0.name < $1.name }
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    public var names: [String] { entries.map(\.name) }

    public func entry(_ name: String) -> SafetensorsEntry? { index[name].map { entries[$0] } }

    /// Decodes one tensor to f32.
    public func tensor(_ name: String) throws(FileFormatError) -> Tensor {
        guard let e = entry(name) else {
            throw FileFormatError(path: path, place: "tensor '\(name)'", message: "no tensor of this name in the file",
                                  fix: "the file holds: " + names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : ""))
        }
        return decode(e)
    }

    /// Every tensor, decoded.
    public func tensors() throws(FileFormatError) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for e in entries { out[e.name] = decode(e) }
        return out
    }

    private func decode(_ e: SafetensorsEntry) -> Tensor {
        let count = e.shape.reduce(1, *)
        let src = UnsafeRawBufferPointer(rebasing: file.bytes[e.byteRange])
        let data = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch e.dtype {
            case .F32:
                #if _endian(big)
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                #else
                if count > 0 { UnsafeMutableRawBufferPointer(out).copyMemory(from: src) }
                #endif
            case .F64:
                for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .F16:
                for i in 0..<count { out[i] = HalfFloat.float(fromHalf: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .BF16:
                for i in 0..<count { out[i] = HalfFloat.float(fromBFloat16: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .I64:
                for i in 0..<count { out[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            case .I32:
                for i in 0..<count { out[i] = Float(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .I16:
                for i in 0..<count { out[i] = Float(Int16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .I8:
                for i in 0..<count { out[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
            case .U8:
                for i in 0..<count { out[i] = Float(src[i]) }
            }
            initialized = count
        }
        return Tensor(shape: e.shape, data: data)
    }
}
