/// One unit of distributed work: a study folder that a worker discovers and converts as a whole.
///
/// The coordinator lists folders and never parses their headers; the size is the sum of the folder's file sizes,
/// used only to hand out the largest units first (a large study left to the end of a run keeps one worker busy while
/// the others are idle). The journal gives each unit its id when the unit is added.
public struct WorkUnit: Sendable, Hashable, Codable {
    /// The journal's number for a unit: stable for the life of the journal, never reused.
    public struct ID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
        /// The row id in the journal's `unit` table.
        public let rawValue: Int64

        /// An id as the journal stores it.
        public init(_ rawValue: Int64) {
            self.rawValue = rawValue
        }

        public static func < (lhs: ID, rhs: ID) -> Bool {
            lhs.rawValue < rhs.rawValue
        }

        public var description: String {
            "unit \(rawValue)"
        }
    }

    /// The unit's id in its journal.
    public let id: ID
    /// The study folder, as the coordinator listed it (workers resolve it on the shared file system).
    public let path: String
    /// The folder's size in bytes: the order in which units are leased, largest first.
    public let size: Int64

    /// A unit as the journal stores it.
    public init(id: ID, path: String, size: Int64) {
        self.id = id
        self.path = path
        self.size = size
    }
}
