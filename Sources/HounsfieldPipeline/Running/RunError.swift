/// Why a run could not start (nothing was processed).
public enum RunError: Error, Sendable, CustomStringConvertible {
    /// The configuration is invalid (see the wrapped error for the key at fault).
    case configuration(ConfigurationError)
    /// No inputs were given, or one does not exist.
    case inputs(String)
    /// The output folder cannot be prepared: not writable, or it holds output of another configuration.
    case output(String)

    public var description: String {
        switch self {
        case .configuration(let error): error.description
        case .inputs(let message): "inputs: \(message)"
        case .output(let message): "output: \(message)"
        }
    }
}
