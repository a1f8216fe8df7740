/// A request body turned into the DICOM objects of one study, named, as ``Preprocessor`` takes them. What a body
/// may be is decided by its `Content-Type`:
///
/// | Content-Type | body |
/// |---|---|
/// | `multipart/related; type="application/dicom"; boundary=B` | DICOMweb STOW-RS: one instance per part |
/// | `application/dicom` | one instance |
/// | `application/x-tar` (or `application/tar`) | a tar of the study's files |
/// | `application/zip` (or `application/x-zip-compressed`) | a zip of the study's files |
///
/// Anything else is answered 415. Archive members that are not DICOM are handed on all the same: discovery
/// excludes them with a reason, as it does files in a folder.
enum StudyUpload {
    /// The kinds of body taken.
    enum Kind: Equatable {
        case multipart(boundary: String)
        case dicom, tar, zip
    }

    /// The kind of body `contentType` announces; a 415 ``HTTPFailure`` when none.
    static func kind(of contentType: String?) throws(HTTPFailure) -> Kind {
        guard let contentType, let parsed = ContentType(contentType) else {
            throw unsupported("no Content-Type was sent")
        }
        switch parsed.essence {
        case "multipart/related":
            if let type = parsed.parameters["type"], type.lowercased() != "application/dicom" {
                throw unsupported("multipart/related of type \(type) holds no DICOM instances")
            }
            guard let boundary = parsed.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 70 else {
                throw HTTPFailure(status: .badRequest, error: "multipart/related without a boundary parameter (or one over 70 characters)",
                                  hint: #"send Content-Type: multipart/related; type="application/dicom"; boundary=SOMETHING-UNIQUE"#)
            }
            return .multipart(boundary: boundary)
        case "application/dicom": return .dicom
        case "application/x-tar", "application/tar": return .tar
        case "application/zip", "application/x-zip-compressed": return .zip
        default: throw unsupported("\(parsed.essence) is not a body this endpoint reads")
        }
    }

    /// The named objects of `body`. Copies each part or member once out of the body (the scanner keeps each object
    /// as an array of its own); a single instance is handed on without a copy.
    static func objects(of body: [UInt8], kind: Kind, maxExpandedBytes: Int) throws(HTTPFailure) -> [(name: String, bytes: [UInt8])] {
        switch kind {
        case .dicom:
            return [(name: "instance.dcm", bytes: body)]
        case .zip:
            return try ZipArchive.files(of: body, maxExpandedBytes: maxExpandedBytes)
        case .tar:
            return try body.withUnsafeBytes { buffer in
                Result { () throws(HTTPFailure) in
                    try TarArchive.members(of: buffer).map { (name: $0.name, bytes: Array(buffer[$0.content])) }
                }
            }.get()
        case .multipart(let boundary):
            return try body.withUnsafeBytes { buffer in
                Result { () throws(HTTPFailure) in
                    var objects: [(name: String, bytes: [UInt8])] = []
                    for (index, part) in try MultipartRelated.parts(of: buffer, boundary: boundary).enumerated() {
                        if let type = part.headers["content-type"], let parsed = ContentType(type), parsed.essence != "application/dicom" {
                            throw unsupported("part \(index + 1) is \(parsed.essence), not application/dicom")
                        }
                        objects.append((name: "part-\(index + 1).dcm", bytes: Array(buffer[part.content])))
                    }
                    return objects
                }
            }.get()
        }
    }

    private static func unsupported(_ what: String) -> HTTPFailure {
        HTTPFailure(status: .unsupportedMediaType, error: "unsupported body: \(what)",
                    hint: #"send the study as multipart/related; type="application/dicom"; boundary=… (DICOMweb STOW-RS), as application/dicom (one instance), or as application/x-tar or application/zip of its files"#)
    }
}
