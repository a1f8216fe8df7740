/// A configuration that cannot run, with the path of the key at fault (e.g. `output.compression`).
public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case unknownKey(path: String, known: [String])
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
