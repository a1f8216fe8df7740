import Foundation

/// `String(format:)` for numbers (the patterns here take no strings: a Swift `String` is no C vararg on Linux).
func format(_ pattern: String, _ values: any CVarArg...) -> String { String(format: pattern, arguments: values) }
