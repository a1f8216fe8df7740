import Crypto
import Foundation
import HounsfieldHDF5
import HounsfieldTransforms
import Yams

/// Reads a configuration file (JSON, or YAML when the name ends in `.yaml`/`.yml`), refusing unknown keys by their
/// path so a typo never silently does nothing.
public enum ConfigurationFile {
    /// Reads and parses the file at `path`, or the `configuration.json` of the output folder at `path`. Throws
    /// ``ConfigurationError/unreadable(file:reason:)`` when it cannot be read or parsed,
    /// ``ConfigurationError/unknownKey(path:known:)`` for a key that does not exist, and
    /// ``ConfigurationError/invalid(path:reason:)`` for a value of the wrong type. Values are not validated here:
    /// ``RunConfiguration/validate()`` does that.
    public static func load(_ path: String) throws(ConfigurationError) -> RunConfiguration {
        var isFolder: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
            ? (path as NSString).appendingPathComponent("configuration.json") : path
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .unreadable(file: file, reason: isFolder.boolValue
                ? "the folder has no configuration.json: give a configuration file or a `hounsfield run` output folder"
                : "the file does not exist or cannot be read")
        }
        return try parse(data, file: file)
    }

    /// Reads the file at `path` like ``load(_:)``, except that the top-level `section` (such as `serve`, which
    /// `hounsfield serve` adds) is handed back as JSON instead of refused, for the component that owns it to decode
    /// and check (``ConfigurationSchema``). Without that section, the second value is nil.
    public static func load(_ path: String, handingBack section: String) throws(ConfigurationError) -> (RunConfiguration, Data?) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(file: path, reason: "the file does not exist or cannot be read")
        }
        let isYAML = path.hasSuffix(".yaml") || path.hasSuffix(".yml")
        let object = isYAML ? try yamlObject(data, file: path) : try jsonObject(data, file: path)
        guard var root = object as? [String: Any] else { throw .unreadable(file: path, reason: "the top level must be a mapping") }
        let handed = root.removeValue(forKey: section)
        let rest: Data
        let sectionData: Data?
        do {
            rest = try JSONSerialization.data(withJSONObject: root)
            sectionData = try handed.map { value throws(ConfigurationError) in
                guard value is [String: Any] else { throw .invalid(path: section, reason: "must be a mapping") }
                do { return try JSONSerialization.data(withJSONObject: value) } catch {
                    throw .unreadable(file: path, reason: "\(error)")
                }
            }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw .unreadable(file: path, reason: "\(error)")
        }
        // JSON is YAML too: the rest parses whatever the file's extension says, and errors name the file.
        return (try parse(rest, file: path), sectionData)
    }

    /// Parses a configuration; `file` names it in errors and, by its extension, picks YAML over JSON.
    ///
    /// A `configuration.json` that `hounsfield run` wrote into its output folder is read too: its `configuration`
    /// section is the run's configuration (chain spelled out, no inputs, folder or execution), and since it records
    /// the salt only as a hash, the result's ``RunConfiguration/requiredSaltDigest`` makes `validate()` insist on the
    /// same salt. That is how a service or a later run reproduces a dataset's preprocessing exactly.
    public static func parse(_ data: Data, file: String = "configuration") throws(ConfigurationError) -> RunConfiguration {
        let isYAML = file.hasSuffix(".yaml") || file.hasSuffix(".yml")
        let object = isYAML ? try yamlObject(data, file: file) : try jsonObject(data, file: file)
        guard var root = object as? [String: Any] else { throw .unreadable(file: file, reason: "the top level must be a mapping") }
        var recorded: (key: String, saltDigest: String)?
        var prefix = ""
        if let key = root["configuration_key"] as? String {
            guard let section = root["configuration"] as? [String: Any],
                  let saltDigest = (root["processing"] as? [String: Any])?["salt"] as? String else {
                throw .unreadable(file: file, reason: "this configuration.json was written by an older hounsfield and holds no `configuration` section: run with the original configuration file, or rerun once with this version to record it")
            }
            recorded = (key, saltDigest)
            root = section
            prefix = "configuration."
        }
        var configuration = try decode(root, isYAML: isYAML, data: data, file: file, prefix: prefix)
        if let recorded {
            // The recorded section must give back the recorded key, or reusing it would not reproduce the dataset.
            let key = SHA256.hash(data: configuration.processingJSON(saltDigest: recorded.saltDigest)).hex
            guard key == recorded.key else {
                throw .unreadable(file: file, reason: "its `configuration` section does not reproduce its configuration_key (\(recorded.key.prefix(12))…, this version computes \(key.prefix(12))…): the file was edited, or written by a hounsfield whose keys differ")
            }
            configuration.requiredSaltDigest = recorded.saltDigest
        }
        return configuration
    }

    private static func decode(_ root: [String: Any], isYAML: Bool, data: Data, file: String,
                               prefix: String) throws(ConfigurationError) -> RunConfiguration {
        try checkKeys(root, path: String(prefix.dropLast()), schema: schema)
        if let transforms = root["transforms"] as? [Any] { try checkTransformKeys(transforms, path: prefix + "transforms") }
        do {
            // YAML goes through JSON so both formats share one decoding and one set of error paths.
            let json = isYAML || !prefix.isEmpty ? try JSONSerialization.data(withJSONObject: root) : data
            return try JSONDecoder().decode(RunConfiguration.self, from: json)
        } catch let error as DecodingError {
            throw .invalid(path: prefix + path(of: error), reason: reason(of: error))
        } catch {
            throw .unreadable(file: file, reason: "\(error)")
        }
    }

    private static func jsonObject(_ data: Data, file: String) throws(ConfigurationError) -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .unreadable(file: file, reason: "not valid JSON (\((error as NSError).userInfo["NSDebugDescription"] ?? error))")
        }
    }

    private static func yamlObject(_ data: Data, file: String) throws(ConfigurationError) -> Any {
        let text = String(decoding: data, as: UTF8.self)
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw .unreadable(file: file, reason: "not valid YAML (\(error))")
        }
        guard let loaded else { throw .unreadable(file: file, reason: "the file is empty") }
        return jsonCompatible(loaded)
    }

    /// YAML's values as JSONSerialization takes them: string keys, null as NSNull, timestamps as ISO 8601 text.
    private static func jsonCompatible(_ value: Any) -> Any {
        switch value {
        case let mapping as [AnyHashable: Any]:
            return Dictionary(uniqueKeysWithValues: mapping.map { ("\($0.key.base)", jsonCompatible($0.value)) })
        case let mapping as [String: Any]:
            return mapping.mapValues(jsonCompatible)
        case let sequence as [Any]:
            return sequence.map(jsonCompatible)
        case let date as Date:
            return ISO8601DateFormatter().string(from: date)
        case is NSNull:
            return NSNull()
        default:
            return value
        }
    }

    /// The transforms' own decoding ignores fields it does not know, so each step is decoded, encoded again, and
    /// any key the step did not keep is refused (`transforms[1].ouside`). Nested `compose` steps are checked too.
    private static func checkTransformKeys(_ steps: [Any], path: String) throws(ConfigurationError) {
        for (index, step) in steps.enumerated() {
            let here = "\(path)[\(index)]"
            guard let object = step as? [String: Any] else { throw .invalid(path: here, reason: "each step must be a mapping") }
            let kept: [String: Any]
            do {
                let specification = try JSONDecoder().decode(
                    TransformSpecification.self, from: JSONSerialization.data(withJSONObject: object))
                kept = try JSONSerialization.jsonObject(with: JSONEncoder().encode(specification)) as? [String: Any] ?? [:]
            } catch {
                continue  // the full decoding reports the invalid value, with its path
            }
            for (key, value) in object where kept[key] == nil && !(value is NSNull) {
                throw .unknownKey(path: "\(here).\(key)", known: kept.keys.sorted())
            }
            if let nested = object["steps"] as? [Any] { try checkTransformKeys(nested, path: "\(here).steps") }
        }
    }

    /// Known keys, nested. `transforms` is checked step by step (`checkTransformKeys`).
    private static let schema = ConfigurationSchema.object([
        "inputs": .leaf, "transforms": .leaf,
        "filters": .object(["modality": .leaf, "minimum_slices": .leaf, "series_description": .leaf, "slice_thickness": .leaf,
                            "secondary_captures": .leaf, "repeated_positions": .leaf]),
        "loading": .object(["tilt": .leaf, "spacing": .leaf]),
        "preprocessing": .object(["window": .leaf, "spacing": .leaf, "interpolation": .leaf, "normalize": .leaf]),
        "output": .object(["folder": .leaf, "dtype": .leaf, "scale": .leaf, "layout": .leaf, "compression": .leaf, "chunks": .leaf,
                           "shard_size": .leaf, "shard_volumes": .leaf, "previews": .leaf, "nifti": .leaf]),
        "privacy": .object(["salt": .leaf, "keep_identifiers": .leaf]),
        "labels": .object(["pair": .leaf, "on_failure": .leaf]),
        "execution": .object(["jobs": .leaf, "decode_jobs": .leaf, "transform_jobs": .leaf, "memory_limit": .leaf, "retries": .leaf, "resume": .leaf,
                              "shard_index": .leaf, "shard_count": .leaf, "writer_name": .leaf]),
    ])

    private static func checkKeys(_ object: [String: Any], path: String, schema: ConfigurationSchema) throws(ConfigurationError) {
        try schema.check(object, path: path)
    }

    private static func path(of error: DecodingError) -> String {
        let codingPath: [any CodingKey]
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): codingPath = c.codingPath
        case .keyNotFound(let key, let c): codingPath = c.codingPath + [key]
        @unknown default: return "?"
        }
        return codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
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

/// The keys a configuration section may have, so that a typo is refused by its path (`serve.dicom.prot`) instead of
/// silently doing nothing.
public indirect enum ConfigurationSchema: Sendable {
    /// A mapping with these keys.
    case object([String: ConfigurationSchema])
    /// A value of any type (its decoding checks it).
    case leaf

    /// Refuses the first key of `object` (at `path`, "" for the top) that the schema does not have.
    public func check(_ object: [String: Any], path: String) throws(ConfigurationError) {
        guard case .object(let known) = self else { return }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            let here = path.isEmpty ? key : "\(path).\(key)"
            guard let child = known[key] else { throw .unknownKey(path: here, known: known.keys.sorted()) }
            if case .object = child {
                guard let nested = value as? [String: Any] else { throw .invalid(path: here, reason: "must be a mapping") }
                try child.check(nested, path: here)
            }
        }
    }
}
