import Foundation

/// A shared secret kept in a file (a Kubernetes or Docker secret, a file only its owner reads), so that it stays
/// out of `ps`, shell history and job accounting. The coordinator, its workers and the daemon's HTTP API read their
/// tokens with this one rule: the file's text without surrounding whitespace, never empty.
public enum TokenFile {
    /// Why a token file gave no token, as the end of a sentence naming the file.
    public enum Problem: Error, Sendable, Hashable {
        /// The file does not exist or cannot be read.
        case unreadable
        /// The file holds only whitespace.
        case empty
    }

    /// The token held in the file at `path`.
    public static func read(_ path: String) throws(Problem) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadable }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .empty }
        return token
    }
}
