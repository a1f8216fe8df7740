import HounsfieldCore

/// Why `LittleEndianParser` stopped without a data set.
enum ParserStop: Error {
    /// The bytes end before the parse does, and more of the file exists: read up to this offset and parse again.
    case needsBytes(upTo: Int)
    /// Something the native parser does not read: another transfer syntax, no preamble, a damaged or unusual
    /// encoding. DCMTK reads such objects instead (and reports their faults), so a decline never loses a file.
    case declined(String)
}

/// Reads the element structure of a DICOM file written the common way — a preamble, `DICM`, the file meta
/// information, then a data set in implicit or explicit VR little endian, possibly with encapsulated pixel data —
/// without DCMTK.
///
/// Why: a CT series is hundreds of small files, and DCMTK spends more time loading its text data dictionary
/// (~20 ms per process, while every other thread waits) and building an object tree per file than reading takes.
/// This parser only records where each value lies; values are decoded when asked for (`LittleEndianDataSet`).
///
/// It is strict where DCMTK is lenient: tags out of order, unknown VRs, lengths that overrun their item,
/// attributes Hounsfield reads stored as `UN`, nesting deeper than 16 levels — anything unusual declines, and
/// DCMTK reads the file as before. So every file is read either by this parser exactly, or by DCMTK.
struct LittleEndianParser {
    /// What a parse found.
    struct Result {
        var meta: [DataElement]
        var elements: [DataElement]
        var transferSyntaxUID: String
        var encoding: Encoding
        /// The Pixel Data element at the top level, if the parse reached it (for encapsulated data: where its
        /// fragments start, and their length with their item headers).
        var pixelData: (offset: Int, length: Int, encapsulated: Bool)?
        /// The values of encapsulated pixel data's items: the Basic Offset Table first, then the fragments.
        var fragments: [Range<Int>]
    }

    /// How a transfer syntax encodes its data set, for the syntaxes this parser reads.
    enum Encoding {
        case implicitLittleEndian, explicitLittleEndian, encapsulated

        init?(transferSyntax uid: String) {
            switch uid {
            case "1.2.840.10008.1.2": self = .implicitLittleEndian
            case "1.2.840.10008.1.2.1": self = .explicitLittleEndian
            // JPEG, JPEG-LS, JPEG 2000, HTJ2K, MPEG (…1.2.4.x) and RLE (…1.2.5): explicit VR little endian.
            case let uid where uid.hasPrefix("1.2.840.10008.1.2.4.") || uid == "1.2.840.10008.1.2.5":
                self = .encapsulated
            default: return nil  // deflated, big endian, private syntaxes
            }
        }
    }

    private static let undefinedLength = UInt32.max
    private static let pixelDataTag: UInt32 = 0x7FE0_0010
    private static let itemTag: UInt32 = 0xFFFE_E000
    private static let itemDelimiterTag: UInt32 = 0xFFFE_E00D
    private static let sequenceDelimiterTag: UInt32 = 0xFFFE_E0DD
    private static let maximumDepth = 16

    private let bytes: UnsafeRawBufferPointer
    /// Whether `bytes` is the whole object; if not, running out of bytes asks for more instead of declining.
    private let isComplete: Bool
    /// Header-only parses stop before the top-level Pixel Data element, as DCMTK's `loadFileUntilTag` does.
    private let stopsAtPixelData: Bool
    private var position = 0
    private var pixelData: (offset: Int, length: Int, encapsulated: Bool)?
    private var fragments: [Range<Int>] = []

    /// Parses `bytes` (the whole object when `isComplete`, else a prefix of it).
    static func parse(
        _ bytes: UnsafeRawBufferPointer, isComplete: Bool, stopsAtPixelData: Bool
    ) throws(ParserStop) -> Result {
        var parser = LittleEndianParser(bytes: bytes, isComplete: isComplete, stopsAtPixelData: stopsAtPixelData)
        return try parser.parseFile()
    }

    private init(bytes: UnsafeRawBufferPointer, isComplete: Bool, stopsAtPixelData: Bool) {
        self.bytes = bytes
        self.isComplete = isComplete
        self.stopsAtPixelData = stopsAtPixelData
    }

    private mutating func parseFile() throws(ParserStop) -> Result {
        try require(132)
        guard bytes[128] == 0x44, bytes[129] == 0x49, bytes[130] == 0x43, bytes[131] == 0x4D else {
            throw .declined("no DICM marker at byte 128")
        }
        position = 132
        var meta: [DataElement] = []
        while try peekGroup() == 0x0002 {
            let element = try readElement(implicit: false, depth: 0, topLevel: false)
            guard meta.last.map({ $0.tag < element.tag }) ?? true else { throw .declined("meta tags out of order") }
            meta.append(element)
        }
        guard let syntax = meta.element(0x0002_0010), syntax.vr == .UI else {
            throw .declined("no TransferSyntaxUID in the file meta information")
        }
        let uid = String(decoding: trimmed(syntax.offset, syntax.length), as: UTF8.self)
        guard let encoding = Encoding(transferSyntax: uid) else { throw .declined("transfer syntax \(uid)") }
        let elements = try readItemContent(end: nil, implicit: encoding == .implicitLittleEndian, depth: 0)
        return Result(meta: meta, elements: elements, transferSyntaxUID: uid, encoding: encoding,
                      pixelData: pixelData, fragments: fragments)
    }

    // MARK: Items and elements

    /// Elements up to `end`, or up to an item delimiter when `end` is nil inside a sequence, or to the end of the
    /// object at the top level (`depth` 0).
    private mutating func readItemContent(end: Int?, implicit: Bool, depth: Int) throws(ParserStop) -> [DataElement] {
        let topLevel = depth == 0
        var elements: [DataElement] = []
        while true {
            if let end {
                if position == end { break }
                guard position < end else { throw .declined("an element overruns its item") }
            } else if topLevel, position == bytes.count {
                if isComplete { break }
                throw .needsBytes(upTo: position + 1)
            }
            let tag = try peekTag()
            if tag == Self.itemDelimiterTag, end == nil, !topLevel {
                position += 4
                guard try uint32() == 0 else { throw .declined("item delimiter with a length") }
                break
            }
            if topLevel, tag == Self.pixelDataTag, stopsAtPixelData { break }
            let element = try readElement(implicit: implicit, depth: depth, topLevel: topLevel)
            guard elements.last.map({ $0.tag < element.tag }) ?? true else { throw .declined("tags out of order") }
            guard element.tag >> 16 != 0x0002 else { throw .declined("file meta tags inside the data set") }
            elements.append(element)
        }
        return elements
    }

    private mutating func readElement(implicit: Bool, depth: Int, topLevel: Bool) throws(ParserStop) -> DataElement {
        let tag = try uint32Tag()
        guard tag >> 16 != 0xFFFE else { throw .declined("an item tag where an element was expected") }
        let vr: ValueRepresentation
        let length: UInt32
        if implicit {
            vr = ValueRepresentation.ofAttributesRead[tag] ?? .UN
            length = try uint32()
        } else {
            try require(2)
            vr = ValueRepresentation(bytes[position], bytes[position + 1])
            position += 2
            guard ValueRepresentation.known.contains(vr) else { throw .declined("unknown VR \(vr)") }
            if vr == .UN, ValueRepresentation.ofAttributesRead[tag] != nil {
                throw .declined("an attribute Hounsfield reads is stored as UN")
            }
            if vr.hasLongLength {
                try require(6)
                position += 2
                length = try uint32()
            } else {
                length = UInt32(try uint16())
            }
        }

        if length == Self.undefinedLength {
            if topLevel, tag == Self.pixelDataTag {
                guard !implicit else { throw .declined("encapsulated pixel data in implicit VR") }
                let offset = position
                try skipFragments()
                pixelData = (offset, position - offset, true)
                return DataElement(tag: tag, vr: vr, offset: offset, length: 0, items: [])
            }
            // A sequence; an unknown element of undefined length is one too (implicit VR inside, PS3.5 6.2.2).
            guard vr == .SQ || vr == .UN else { throw .declined("undefined length for VR \(vr)") }
            let offset = position
            let items = try readItems(end: nil, implicit: implicit || vr == .UN, depth: depth + 1)
            return DataElement(tag: tag, vr: vr, offset: offset, length: 0, items: items)
        }

        let offset = position
        let end = offset + Int(length)
        if vr == .SQ {
            let items = try readItems(end: end, implicit: implicit, depth: depth + 1)
            return DataElement(tag: tag, vr: vr, offset: offset, length: Int(length), items: items)
        }
        try require(Int(length))
        position = end
        if topLevel, tag == Self.pixelDataTag { pixelData = (offset, Int(length), false) }
        return DataElement(tag: tag, vr: vr, offset: offset, length: Int(length), items: [])
    }

    /// The items of a sequence, up to `end` or to a sequence delimiter when `end` is nil.
    private mutating func readItems(end: Int?, implicit: Bool, depth: Int) throws(ParserStop) -> [[DataElement]] {
        guard depth <= Self.maximumDepth else { throw .declined("sequences nested deeper than \(Self.maximumDepth)") }
        var items: [[DataElement]] = []
        while true {
            if let end {
                if position == end { break }
                guard position < end else { throw .declined("an item overruns its sequence") }
            }
            let tag = try uint32Tag()
            let length = try uint32()
            if tag == Self.sequenceDelimiterTag {
                guard end == nil else { throw .declined("a sequence delimiter in a sequence of defined length") }
                break
            }
            guard tag == Self.itemTag else { throw .declined("an element where a sequence item was expected") }
            if length == Self.undefinedLength {
                items.append(try readItemContent(end: nil, implicit: implicit, depth: depth))
            } else {
                let itemEnd = position + Int(length)
                items.append(try readItemContent(end: itemEnd, implicit: implicit, depth: depth))
            }
        }
        return items
    }

    /// Steps over the items of encapsulated pixel data, up to its sequence delimiter, noting where each one's value
    /// lies.
    private mutating func skipFragments() throws(ParserStop) {
        while true {
            let tag = try uint32Tag()
            let length = try uint32()
            if tag == Self.sequenceDelimiterTag { return }
            guard tag == Self.itemTag, length != Self.undefinedLength else {
                throw .declined("malformed encapsulated pixel data")
            }
            try require(Int(length))
            fragments.append(position..<position + Int(length))
            position += Int(length)
        }
    }

    // MARK: Bytes

    /// Throws unless `count` bytes follow the current position.
    private func require(_ count: Int) throws(ParserStop) {
        guard bytes.count - position < count else { return }
        if isComplete { throw .declined("the object ends inside an element") }
        throw .needsBytes(upTo: position + count)
    }

    private mutating func uint16() throws(ParserStop) -> UInt16 {
        try require(2)
        defer { position += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    private mutating func uint32() throws(ParserStop) -> UInt32 {
        try require(4)
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    /// A tag: group then element, each 16-bit little endian.
    private mutating func uint32Tag() throws(ParserStop) -> UInt32 {
        let group = try uint16()
        return UInt32(group) << 16 | UInt32(try uint16())
    }

    private mutating func peekTag() throws(ParserStop) -> UInt32 {
        let start = position
        defer { position = start }
        return try uint32Tag()
    }

    /// The group of the next element, or nil at the end of a complete object.
    private mutating func peekGroup() throws(ParserStop) -> UInt16? {
        if isComplete, position == bytes.count { return nil }
        let start = position
        defer { position = start }
        return try uint16()
    }

    private func trimmed(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer {
        var end = offset + length
        while end > offset, bytes[end - 1] == 0 || bytes[end - 1] == 0x20 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
    }
}
