import Foundation

/// A `multipart/related` body (RFC 2387) as DICOMweb's STOW-RS sends studies: one DICOM instance per part, each
/// with its own headers. Parts are found by scanning for the delimiter with ``ByteSearch`` on the bytes as they
/// arrived; nothing is decoded as text but the part headers.
struct MultipartRelated {
    /// One part: its headers (names lowercased) and where its content lies in the body.
    struct Part {
        var headers: [String: String]
        var content: Range<Int>
    }

    /// Splits `body` at `boundary`. Throws a 400 ``HTTPFailure`` when the body does not follow the format (no first
    /// delimiter, a part without the blank line after its headers, no closing delimiter: often an upload cut short).
    static func parts(of body: UnsafeRawBufferPointer, boundary: String) throws(HTTPFailure) -> [Part] {
        let dash = Array("--".utf8) + Array(boundary.utf8)
        let delimiter = Array("\r\n".utf8) + dash
        // The first delimiter may open the body (no preamble) or follow a preamble and its line break.
        var position: Int
        if body.count >= dash.count, dash.withUnsafeBytes({ $0.elementsEqual(body[0..<dash.count]) }) {
            position = dash.count
        } else if let found = ByteSearch.firstOffset(of: delimiter, in: body) {
            position = found + delimiter.count
        } else {
            throw malformed("no part starts with the boundary given in Content-Type (\(boundary))")
        }
        var parts: [Part] = []
        while true {
            // After a delimiter: `--` closes the body; else optional padding, then the line break.
            if body.count - position >= 2, body[position] == UInt8(ascii: "-"), body[position + 1] == UInt8(ascii: "-") {
                return parts
            }
            while position < body.count, body[position] == UInt8(ascii: " ") || body[position] == UInt8(ascii: "\t") {
                position += 1
            }
            guard body.count - position >= 2, body[position] == 13, body[position + 1] == 10 else {
                throw malformed("the boundary of part \(parts.count + 1) is not followed by a line break")
            }
            position += 2
            // Headers end at an empty line; a part may have none (then the empty line comes at once).
            let headerStart = position
            let headerEnd: Int
            if body.count - position >= 2, body[position] == 13, body[position + 1] == 10 {
                headerEnd = position
                position += 2
            } else {
                guard let end = ByteSearch.firstOffset(of: Array("\r\n\r\n".utf8), in: body, from: position) else {
                    throw malformed("part \(parts.count + 1) has no blank line after its headers")
                }
                headerEnd = end
                position = end + 4
            }
            let headers = parseHeaders(UnsafeRawBufferPointer(rebasing: body[headerStart..<headerEnd]))
            guard let end = ByteSearch.firstOffset(of: delimiter, in: body, from: position) else {
                throw malformed("part \(parts.count + 1) has no closing boundary: the upload may have been cut short")
            }
            parts.append(Part(headers: headers, content: position..<end))
            position = end + delimiter.count
        }
    }

    /// `Name: value` lines, names lowercased; folded lines are joined.
    private static func parseHeaders(_ bytes: UnsafeRawBufferPointer) -> [String: String] {
        var headers: [String: String] = [:]
        var last: String?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true) {
            if let first = line.first, first == " " || first == "\t", let name = last {
                headers[name, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            last = name
        }
        return headers
    }

    private static func malformed(_ what: String) -> HTTPFailure {
        HTTPFailure(status: .badRequest, error: "the multipart/related body is malformed: \(what)",
                    hint: "send each DICOM instance as one part between boundary lines, ending with --BOUNDARY-- (RFC 2046), as DICOMweb STOW-RS clients do; or upload one instance as application/dicom, or a tar or zip of the study")
    }
}
