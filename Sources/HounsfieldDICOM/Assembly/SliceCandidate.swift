import HounsfieldCore
/// A frame on its way into a series: where it is and what could tell it apart from its neighbours.
struct SliceCandidate {
    let image: Int
    let frame: Int
    var position: Vector3?
    var orientation: (row: Vector3, column: Vector3)?
    var pixelSpacing: (betweenRows: Double, betweenColumns: Double)?
    let rescaleSlope: Double
    let rescaleIntercept: Double
    let temporalPosition: Int?

    var normal: Vector3? { orientation.map { $0.row.cross($0.column) } }
}

/// A group of candidates that will become one series, with the words that explain how it was formed.
struct CandidateGroup {
    var candidates: [SliceCandidate]
    /// Suffixes that make the key unique when a UID was split, e.g. `acquisition-2`.
    var keyParts: [String] = []
    var notes: [String] = []
    var warnings: [SeriesWarning] = []
    /// The splits that made this group, in the order they were made.
    var splits: [SeriesSplit] = []

    func splitting(
        into parts: [[SliceCandidate]], keyPrefix: String, by reason: SeriesSplit.Reason, attribute: String? = nil,
        note: (Int, Int) -> String
    ) -> [CandidateGroup] {
        guard parts.count > 1 else {
            // One part left (others may have been dropped): it replaces the candidates, with no new key part.
            var group = self
            group.candidates = parts.first ?? []
            return group.candidates.isEmpty ? [] : [group]
        }
        return parts.enumerated().map { index, members in
            var group = self
            group.candidates = members
            group.keyParts.append("\(keyPrefix)-\(index + 1)")
            group.notes.append(note(index + 1, parts.count))
            group.splits.append(SeriesSplit(
                reason: reason, part: index + 1, parts: parts.count, slicesBefore: candidates.count,
                attribute: attribute))
            return group
        }
    }
}
