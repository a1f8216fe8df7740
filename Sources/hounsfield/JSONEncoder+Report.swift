import Foundation

extension JSONEncoder {
    /// How every report is printed: indented, keys sorted (stable diffs), slashes unescaped (readable paths).
    static var report: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
