/// What `Journal.add(units:)` did.
public struct AddResult: Sendable, Hashable, Codable {
    /// Folders new to the journal, now pending.
    public let added: Int
    /// Folders the journal already held (by path), left as they were.
    public let alreadyPresent: Int

    /// A result as the journal reports it.
    public init(added: Int, alreadyPresent: Int) {
        self.added = added
        self.alreadyPresent = alreadyPresent
    }
}
