/// Why a run could not start (nothing was processed).
public enum RunError: Error, Sendable, CustomStringConvertible {
    case configuration(ConfigurationError)
    case inputs(String)
    case output(String)

    public var description: String {
        switch self {
        case .configuration(let error): error.description
        case .inputs(let message): "inputs: \(message)"
        case .output(let message): "output: \(message)"
        }
    }
}
