/// A configuration that cannot run, with the path of the key at fault (e.g. `output.compression`).
public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file cannot be read, or is not JSON or YAML, or its top level is not a mapping.
    case unreadable(file: String, reason: String)
    /// A key the configuration does not have (a typo, usually), with the keys allowed at that place.
    case unknownKey(path: String, known: [String])
    /// A value that cannot work, with the path of its key (`output.compression`) and what to give instead.
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): cannot read the configuration: \(reason)"
        case .unknownKey(let path, let known):
            "configuration: unknown key '\(path)'; known keys here: \(known.joined(separator: ", "))"
        case .invalid(let path, let reason):
            "configuration: '\(path)': \(reason)"
        }
    }
}
