/// A study folder found by the coordinator's listing, before the journal gives it an id: what `Journal.add(units:)`
/// takes.
public struct StudyFolder: Sendable, Hashable, Codable {
    /// The folder's path; a unit is identified by it, so adding the same path twice adds one unit.
    public let path: String
    /// The sum of the folder's file sizes in bytes (units are leased largest first).
    public let size: Int64

    /// A folder and its size in bytes.
    public init(path: String, size: Int64) {
        self.path = path
        self.size = size
    }
}
