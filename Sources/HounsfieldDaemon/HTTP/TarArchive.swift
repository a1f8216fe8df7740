/// The regular files of a tar body (POSIX ustar, pax and GNU long names: what `tar`, Python's `tarfile` and
/// archivers write), read in place. Directories and pax global headers are skipped; links, devices and names that
/// climb out of the archive (`..`, absolute paths) refuse the whole upload, since a study never needs them and a
/// client that sends them is confused or probing.
enum TarArchive {
    /// A member file: its name in the archive and where its bytes lie in the body.
    struct Member {
        var name: String
        var content: Range<Int>
    }

    /// The files of `body`, in archive order. Throws a 400 ``HTTPFailure`` naming the member at fault.
    static func members(of body: UnsafeRawBufferPointer) throws(HTTPFailure) -> [Member] {
        var members: [Member] = []
        var position = 0
        var longName: String?  // from a GNU `L` record or a pax `path`, for the next header
        while body.count - position >= 512 {
            let header = UnsafeRawBufferPointer(rebasing: body[position..<position + 512])
            if header.allSatisfy({ $0 == 0 }) { return members }  // the end-of-archive blocks
            guard checksumMatches(header) else {
                throw malformed("the header at byte \(position) fails its checksum (not a tar file, or a damaged one)")
            }
            guard let size = number(header, 124, 12) else {
                throw malformed("the header at byte \(position) has no readable size")
            }
            let start = position + 512
            guard size >= 0, body.count - start >= size else {
                throw malformed("the member at byte \(position) claims \(size) bytes but the body ends first (cut short?)")
            }
            let content = start..<start + size
            position = start + (size + 511) / 512 * 512
            let type = header[156]
            switch type {
            case UInt8(ascii: "L"):  // GNU: the next member's long name
                longName = text(UnsafeRawBufferPointer(rebasing: body[content]))
                continue
            case UInt8(ascii: "x"):  // pax: per-member attributes; only `path` matters here
                if let path = paxPath(UnsafeRawBufferPointer(rebasing: body[content])) { longName = path }
                continue
            case UInt8(ascii: "g"):  // pax global attributes
                continue
            default: break
            }
            var name = longName ?? fullName(header)
            longName = nil
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
                try check(name)
                if name.hasPrefix("./") { name.removeFirst(2) }
                members.append(Member(name: name, content: content))
            case UInt8(ascii: "5"):
                try check(name)  // a directory: nothing to read
            case UInt8(ascii: "1"), UInt8(ascii: "2"):
                throw malformed("member \(name) is a link; send the files themselves (tar without -h follows none)")
            default:
                throw malformed("member \(name) is not a regular file (tar type '\(Character(Unicode.Scalar(type)))')")
            }
        }
        guard position >= body.count else {
            throw malformed("the body ends inside a header (cut short?)")
        }
        return members
    }

    /// Refuses names that leave the archive's folder.
    static func check(_ name: String) throws(HTTPFailure) {
        if name.hasPrefix("/") || name.split(separator: "/").contains("..") || name.contains("\\") {
            throw HTTPFailure(status: .badRequest, error: "archive member \(name) points outside the archive",
                              hint: "archive the study with relative paths (no leading /, no ..): e.g. `tar -cf study.tar -C /data study-42`")
        }
    }

    private static func malformed(_ what: String) -> HTTPFailure {
        HTTPFailure(status: .badRequest, error: "the tar body is malformed: \(what)",
                    hint: "send an uncompressed tar of the study's files (tar -cf), or a zip, or multipart/related with one instance per part")
    }

    /// ustar's `prefix/name`, or the plain name of older formats.
    private static func fullName(_ header: UnsafeRawBufferPointer) -> String {
        let name = text(UnsafeRawBufferPointer(rebasing: header[0..<100]))
        let isUstar = header[257..<262].elementsEqual("ustar".utf8)
        let prefix = isUstar ? text(UnsafeRawBufferPointer(rebasing: header[345..<500])) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// Bytes up to the first NUL, as UTF-8.
    private static func text(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field, or GNU's base-256 form for sizes of 8 GiB and more.
    private static func number(_ header: UnsafeRawBufferPointer, _ offset: Int, _ length: Int) -> Int? {
        let field = header[offset..<offset + length]
        if let first = field.first, first & 0x80 != 0 {
            var value = Int(first & 0x7F)
            for byte in field.dropFirst() {
                guard value < Int.max >> 8 else { return nil }
                value = value << 8 | Int(byte)
            }
            return value
        }
        let digits = field.drop { $0 == UInt8(ascii: " ") }.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }
        guard !digits.isEmpty else { return nil }
        var value = 0
        for digit in digits {
            guard value < Int.max >> 3 else { return nil }
            value = value << 3 | Int(digit - UInt8(ascii: "0"))
        }
        return value
    }

    /// The header's checksum: the byte sum with the checksum field read as spaces (unsigned, or signed as some
    /// old tars wrote it).
    private static func checksumMatches(_ header: UnsafeRawBufferPointer) -> Bool {
        guard let recorded = number(header, 148, 8) else { return false }
        var unsigned = 0, signed = 0
        for (index, byte) in header.enumerated() {
            let value = (148..<156).contains(index) ? 32 : byte
            unsigned += Int(value)
            signed += Int(Int8(bitPattern: value))
        }
        return recorded == unsigned || recorded == signed
    }

    /// `path` from pax records (`LENGTH key=value\n`).
    private static func paxPath(_ bytes: UnsafeRawBufferPointer) -> String? {
        var path: String?
        var rest = Substring(String(decoding: bytes, as: UTF8.self))
        while let space = rest.firstIndex(of: " "), let length = Int(rest[..<space]), length > 0,
              rest.utf8.count >= length {
            let record = rest.utf8.prefix(length)
            let line = Substring(record).dropFirst(rest.distance(from: rest.startIndex, to: space) + 1)
            if line.hasPrefix("path=") { path = String(line.dropFirst(5).dropLast(line.hasSuffix("\n") ? 1 : 0)) }
            rest = Substring(rest.utf8.dropFirst(length))
        }
        return path
    }
}
