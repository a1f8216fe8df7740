import Foundation

/// Reads a configuration file (JSON), refusing unknown keys by their path so a typo never silently does nothing.
public enum ConfigurationFile {
    public static func load(_ path: String) throws(ConfigurationError) -> RunConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(file: path, reason: "the file does not exist or cannot be read")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String = "configuration") throws(ConfigurationError) -> RunConfiguration {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .unreadable(file: file, reason: "not valid JSON (\((error as NSError).userInfo["NSDebugDescription"] ?? error))")
        }
        guard let root = object as? [String: Any] else { throw .unreadable(file: file, reason: "the top level must be an object") }
        try checkKeys(root, path: "", schema: schema)
        do {
            return try JSONDecoder().decode(RunConfiguration.self, from: data)
        } catch let error as DecodingError {
            throw .invalid(path: path(of: error), reason: reason(of: error))
        } catch {
            throw .unreadable(file: file, reason: "\(error)")
        }
    }

    /// Known keys, nested. `transforms` is checked by the transforms' own decoding.
    private indirect enum Schema {
        case object([String: Schema])
        case leaf
    }

    private static let schema = Schema.object([
        "inputs": .leaf, "transforms": .leaf,
        "filters": .object(["modality": .leaf, "minimum_slices": .leaf, "series_description": .leaf, "slice_thickness": .leaf]),
        "loading": .object(["tilt": .leaf, "spacing": .leaf]),
        "preprocessing": .object(["window": .leaf, "spacing": .leaf, "interpolation": .leaf, "normalize": .leaf]),
        "output": .object(["folder": .leaf, "dtype": .leaf, "scale": .leaf, "compression": .leaf, "chunks": .leaf,
                           "shard_size": .leaf, "shard_volumes": .leaf, "previews": .leaf]),
        "privacy": .object(["salt": .leaf, "keep_identifiers": .leaf]),
        "execution": .object(["jobs": .leaf, "memory_limit": .leaf, "retries": .leaf, "resume": .leaf,
                              "shard_index": .leaf, "shard_count": .leaf, "worker": .leaf]),
    ])

    private static func checkKeys(_ object: [String: Any], path: String, schema: Schema) throws(ConfigurationError) {
        guard case .object(let known) = schema else { return }
        for (key, value) in object {
            let here = path.isEmpty ? key : "\(path).\(key)"
            guard let child = known[key] else { throw .unknownKey(path: here, known: known.keys.sorted()) }
            if case .object = child {
                guard let nested = value as? [String: Any] else { throw .invalid(path: here, reason: "must be an object") }
                try checkKeys(nested, path: here, schema: child)
            }
        }
    }

    private static func path(of error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        case .keyNotFound(let key, let c): return (c.codingPath + [key]).map(\.stringValue).joined(separator: ".")
        @unknown default: return "?"
        }
        return context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    private static func reason(of error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): "expected a value of type \(type)"
        case .valueNotFound(let type, _): "expected a value of type \(type), found null"
        case .keyNotFound(let key, _): "the key '\(key.stringValue)' is required"
        case .dataCorrupted(let c): c.debugDescription
        @unknown default: "invalid value"
        }
    }
}
