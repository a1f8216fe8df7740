/// In configuration files a compression is the text users type (`gzip:1`, `zstd:3`, `lz4`, `none`); it is parsed
/// once, when the file is read, so a wrong value is refused with its key's path before any work starts.
extension ShardCompression: Codable {
    /// Reads the text form; a value that does not parse is a `DecodingError` at this key.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try ShardCompression(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Writes the canonical text form (`gzip:1`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// In configuration files a chunk layout is the text users type (`slabs`, `slabs:16`, `cubes:64`), parsed once.
extension ChunkLayout: Codable {
    /// Reads the text form; a value that does not parse is a `DecodingError` at this key.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try ChunkLayout(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Writes the canonical text form (`slabs`, `cubes:64`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// In configuration files a layout is its name (`training`, `archive`), parsed once.
extension ShardLayout: Codable {
    /// Reads the name; an unknown one is a `DecodingError` at this key.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try ShardLayout(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Writes the name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
