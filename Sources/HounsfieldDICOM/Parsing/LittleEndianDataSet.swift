import Glibc
import HounsfieldCore

/// A DICOM object read by `LittleEndianParser`: the bytes it was parsed from and where each element's value lies.
/// Answers the same questions as DCMTK's data set behind `DICOMObject`, with the same values (tests compare the
/// two on every file of the test data).
final class LittleEndianDataSet {
    /// The object's bytes: all of them, or the part a header-only read took.
    private let bytes: [UInt8]
    private let parsed: LittleEndianParser.Result

    private init(bytes: [UInt8], parsed: LittleEndianParser.Result) {
        self.bytes = bytes
        self.parsed = parsed
    }

    /// The transfer syntax UID from the file meta information.
    var transferSyntaxUID: String { parsed.transferSyntaxUID }

    // MARK: Reading

    /// How much of a file a header-only read takes first; a CT header is 1–10 KB.
    private static let headerReadSize = 16 * 1024

    /// Parses a file, or returns nil where DCMTK should read it (see `LittleEndianParser`). `headerOnly` reads
    /// until Pixel Data; otherwise the whole file is read, and nil unless its pixels are read here
    /// (`decodesPixels(ofTransferSyntax:)`).
    static func read(file path: String, headerOnly: Bool) -> LittleEndianDataSet? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int(status.st_size)
        guard size > 0 else { return nil }
        var length = headerOnly ? min(size, headerReadSize) : size
        while true {
            guard let bytes = readPrefix(of: descriptor, length: length) else { return nil }
            do {
                return try parse(bytes, isComplete: length == size, headerOnly: headerOnly)
            } catch .needsBytes(let offset) {
                guard length < size else { return nil }
                length = min(size, max(2 * length, offset + headerReadSize))
            } catch {
                return nil
            }
        }
    }

    /// Parses an object held in memory, or returns nil where DCMTK should read it.
    static func read(bytes: [UInt8], headerOnly: Bool) -> LittleEndianDataSet? {
        try? parse(bytes, isComplete: true, headerOnly: headerOnly)
    }

    private static func parse(
        _ bytes: [UInt8], isComplete: Bool, headerOnly: Bool
    ) throws(ParserStop) -> LittleEndianDataSet {
        let parsed = try bytes.withUnsafeBytes { raw in
            Result { () throws(ParserStop) in
                try LittleEndianParser.parse(raw, isComplete: isComplete, stopsAtPixelData: headerOnly)
            }
        }.get()
        if !headerOnly {
            // Other compressed pixel data is decoded by the shim, which reads the file itself.
            guard let pixels = parsed.pixelData, pixels.encapsulated == (parsed.encoding == .encapsulated),
                  decodesPixels(ofTransferSyntax: parsed.transferSyntaxUID)
            else { throw .declined("pixels to be decoded by the shim") }
        }
        return LittleEndianDataSet(bytes: bytes, parsed: parsed)
    }

    /// Whether pixels in this transfer syntax are read from a `LittleEndianDataSet`: uncompressed little endian,
    /// and lossless JPEG (process 14), whose frames go to the shim's own decoder without DCMTK's parse.
    static func decodesPixels(ofTransferSyntax uid: String) -> Bool {
        switch uid {
        case "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70": true
        default: false
        }
    }

    /// Whether the pixel data is encapsulated lossless JPEG (then read with `withCompressedFrame`).
    var isLosslessJPEG: Bool { parsed.pixelData?.encapsulated == true }

    /// Reads `length` bytes from the start of the file; fewer only at its end or on an error.
    private static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawPointer, length: Int) -> Int {
        var count = 0
        while count < length {
            let got = pread(descriptor, buffer + count, length - count, off_t(count))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { break }
            count += got
        }
        return count
    }

    /// The first `length` (≥ 1) bytes of a file, or nil if it holds fewer (it shrank) or cannot be read.
    private static func readPrefix(of descriptor: Int32, length: Int) -> [UInt8]? {
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            count = read(descriptor, into: buffer.baseAddress!, length: length)
        }
        return bytes.count == length ? bytes : nil
    }

    // MARK: Values

    /// The element at `path` (`tag, item, tag, item, …, tag`); group 0002 tags are looked up in the file meta
    /// information.
    func element(_ path: DICOMPath) -> DataElement? {
        let components = path.components
        guard let first = components.first, components.count % 2 == 1 else { return nil }
        var elements = first >> 16 == 0x0002 ? parsed.meta : parsed.elements
        var index = 0
        while index + 1 < components.count {
            guard let sequence = elements.element(components[index]), sequence.vr == .SQ || sequence.vr == .UN,
                  Int(components[index + 1]) < sequence.items.count
            else { return nil }
            elements = sequence.items[Int(components[index + 1])]
            index += 2
        }
        return elements.element(components[index])
    }

    /// The value as text: values separated by `\`, each without leading or trailing spaces, as DCMTK's normalized
    /// `getOFStringArray` gives them; binary numbers in decimal. Nil when absent, empty or not text or a number.
    func string(_ path: DICOMPath) -> String? {
        guard let element = element(path), element.length > 0 else { return nil }
        let text: String
        if element.vr.isMultiValuedText {
            text = textValues(of: element).joined(separator: "\\")
        } else if element.vr.isSingleValuedText {
            text = String(decoding: trimmed(value(of: element), leading: false), as: UTF8.self)
        } else if let numbers = binaryNumbers(of: element) {
            text = numbers.map { $0.rounded() == $0 && abs($0) < 1e15 ? String(Int64($0)) : "\($0)" }
                .joined(separator: "\\")
        } else {
            return nil
        }
        let result = text.drop { $0 == " " }
        return result.isEmpty ? nil : String(result)
    }

    /// The values as numbers: each value of a DS or IS (nil if any does not parse), or the binary values of US,
    /// SS, UL, SL, FL, FD, OF, OD or AT. Nil when absent, empty or of another VR.
    func numbers(_ path: DICOMPath) -> [Double]? {
        guard let element = element(path), element.length > 0 else { return nil }
        let values: [Double]?
        switch element.vr {
        case .DS, .IS:
            var parsedValues: [Double] = []
            for text in textValues(of: element) {
                guard let number = element.vr == .DS ? Self.decimal(text) : Self.integer(text) else { return nil }
                parsedValues.append(number)
            }
            values = parsedValues
        default:
            values = binaryNumbers(of: element)
        }
        guard let values, !values.isEmpty else { return nil }
        return values
    }

    /// How many items the sequence at `path` has; nil when it is absent or not a sequence.
    func itemCount(_ path: DICOMPath) -> Int? {
        guard let element = element(path), element.vr == .SQ else { return nil }
        return element.items.count
    }

    /// The uncompressed pixel data, little endian as stored (the host's order on every platform Swift targets
    /// here), or nil when the object holds fewer bytes than `length` (the shim then reports why).
    func withPixels<Result>(length: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        guard let pixels = parsed.pixelData, !pixels.encapsulated, pixels.length >= length else { return nil }
        return try bytes.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[pixels.offset..<pixels.offset + length]))
        }
    }

    /// The compressed bytes of a single-frame object's one frame: its fragments after the Basic Offset Table,
    /// where they lie when there is one, joined when there are several. Nil without fragments.
    func withCompressedFrame<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        let fragments = parsed.fragments.dropFirst()
        guard let first = fragments.first else { return nil }
        if fragments.count == 1 {
            return try bytes.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[first])) }
        }
        let joined = fragments.flatMap { bytes[$0] }
        return try joined.withUnsafeBytes(body)
    }

    // MARK: Decoding values

    private func value(of element: DataElement) -> ArraySlice<UInt8> {
        bytes[element.offset..<element.offset + element.length]
    }

    /// The `\`-separated values of a text element, each trimmed of spaces (and of NUL padding, which UIDs use).
    private func textValues(of element: DataElement) -> [String] {
        value(of: element).split(separator: 0x5C, omittingEmptySubsequences: false).map {
            String(decoding: trimmed($0, leading: true), as: UTF8.self)
        }
    }

    private func trimmed(_ bytes: ArraySlice<UInt8>, leading: Bool) -> ArraySlice<UInt8> {
        var slice = bytes
        while let last = slice.last, last == 0x20 || last == 0 { slice.removeLast() }
        while leading, let first = slice.first, first == 0x20 { slice.removeFirst() }
        return slice
    }

    /// The binary values of a US, SS, UL, SL, FL, FD, OF, OD or AT element (a trailing partial value is ignored, as
    /// DCMTK's value multiplicity ignores it); nil for other VRs.
    private func binaryNumbers(of element: DataElement) -> [Double]? {
        let raw = value(of: element)
        func words(_ size: Int) -> [UInt64] {
            stride(from: raw.startIndex, through: raw.endIndex - size, by: size).map { offset in
                (0..<size).reduce(UInt64(0)) { word, byte in word | UInt64(raw[offset + byte]) << (8 * byte) }
            }
        }
        switch element.vr {
        case .US: return words(2).map { Double($0) }
        case .SS: return words(2).map { Double(Int16(truncatingIfNeeded: $0)) }
        case .UL: return words(4).map { Double($0) }
        case .SL: return words(4).map { Double(Int32(truncatingIfNeeded: $0)) }
        case .FL, .OF: return words(4).map { Double(Float(bitPattern: UInt32($0))) }
        case .FD, .OD: return words(8).map { Double(bitPattern: $0) }
        case .AT:
            // Group then element, each 16-bit: (group << 16) | element, as the shim gives it.
            return words(4).map { Double(UInt32($0) << 16 | UInt32($0) >> 16) }
        default: return nil
        }
    }

    /// A DS value as DCMTK reads it: leading spaces skipped, then the longest decimal number at the start
    /// (`"1.5mm"` is 1.5); nil when there is none.
    static func decimal(_ text: String) -> Double? {
        let utf8 = withoutLeadingWhiteSpace(text)
        var end = endOfSign(utf8)
        let integerEnd = endOfDigits(utf8, from: end)
        var mantissa = integerEnd - end
        end = integerEnd
        if end < utf8.count, utf8[end] == 0x2E {
            let fractionEnd = endOfDigits(utf8, from: end + 1)
            mantissa += fractionEnd - end - 1
            end = fractionEnd
        }
        guard mantissa > 0 else { return nil }
        if end < utf8.count, utf8[end] == 0x65 || utf8[end] == 0x45 {
            let exponentStart = endOfSign(utf8, from: end + 1)
            let exponentEnd = endOfDigits(utf8, from: exponentStart)
            if exponentEnd > exponentStart { end = exponentEnd }  // "1e" is 1
        }
        return Double(String(decoding: utf8[..<end], as: UTF8.self))
    }

    /// An IS value as DCMTK reads it (`sscanf("%d")`): leading spaces skipped, a sign, then digits; `"1A"` is 1.
    static func integer(_ text: String) -> Double? {
        let utf8 = withoutLeadingWhiteSpace(text)
        let digitsStart = endOfSign(utf8)
        let end = endOfDigits(utf8, from: digitsStart)
        guard end > digitsStart, let value = Int(String(decoding: utf8[..<end], as: UTF8.self)) else { return nil }
        return Double(Int32(truncatingIfNeeded: value))
    }

    /// The bytes of `text` after the white space C's number parsers skip.
    private static func withoutLeadingWhiteSpace(_ text: String) -> [UInt8] {
        Array(text.utf8.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
    }

    /// Past a `+` or `-` at `start`, if there is one.
    private static func endOfSign(_ utf8: [UInt8], from start: Int = 0) -> Int {
        start < utf8.count && (utf8[start] == 0x2B || utf8[start] == 0x2D) ? start + 1 : start
    }

    /// Past the decimal digits from `start`.
    private static func endOfDigits(_ utf8: [UInt8], from start: Int) -> Int {
        var end = start
        while end < utf8.count, (0x30...0x39).contains(utf8[end]) { end += 1 }
        return end
    }
}
