import HounsfieldCore
/// Where the bytes of one DICOM object come from: a file on disk, or a buffer handed over in memory (a service that
/// receives uploads or C-STORE payloads never has to write them to disk).
public enum ImageSource: Hashable, Sendable, CustomStringConvertible {
    /// A file on disk, by path; read when the scan or the decode needs it.
    case file(String)
    /// A whole DICOM object in memory, with the name error messages and reports show for it. Two buffers with the same
    /// name compare equal, whatever their bytes.
    case memory(name: String, bytes: [UInt8])

    /// The file path, or the buffer's name: what error messages and reports show.
    public var name: String {
        switch self {
        case .file(let path): path
        case .memory(let name, _): name
        }
    }

    public var description: String { name }

    func open(headerOnly: Bool, reader: DICOMObject.Reader = .automatic) throws(DICOMError) -> DICOMObject {
        do {
            return try DICOMObject.open(self, headerOnly: headerOnly, reader: reader)
        } catch {
            throw DICOMError(error, file: name)
        }
    }

    public static func == (lhs: ImageSource, rhs: ImageSource) -> Bool {
        switch (lhs, rhs) {
        case (.file(let a), .file(let b)): a == b
        case (.memory(let a, _), .memory(let b, _)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}
