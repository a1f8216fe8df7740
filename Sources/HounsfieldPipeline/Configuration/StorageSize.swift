/// A number of bytes as a person writes it in a configuration or a flag (`2GiB`, `4GB`, `512MiB`, `1000000`): parsed
/// once, when the configuration is read, and written back as it was given.
public struct StorageSize: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The size in bytes.
    public let bytes: Int
    /// The text it was given as.
    public let text: String

    /// Parses `text` (see ``ByteSize/parse(_:)``); throws ``ConfigurationError/invalid(path:reason:)`` for text that
    /// is not a size, or for a size of zero when `positive`.
    public init(parsing text: String, positive: Bool = true) throws(ConfigurationError) {
        let bytes = try ByteSize.parse(text)
        if positive && bytes <= 0 { throw .invalid(path: "size", reason: "'\(text)' must be more than 0 bytes") }
        self.bytes = bytes
        self.text = text
    }

    /// Reads the text form; a value that does not parse is a `DecodingError` at this key.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: """
                '\(text)' is not a positive size such as 2GB, 512MiB or 1000000
                """))
        }
    }

    /// Writes the text it was given as.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public var description: String { text }

    /// 2 GiB, the default shard size.
    public static let twoGibibytes = StorageSize(bytes: 2 << 30, text: "2GiB")

    private init(bytes: Int, text: String) {
        self.bytes = bytes
        self.text = text
    }
}
