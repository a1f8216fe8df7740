import Foundation

/// Decides when a study folder dropped into a watch folder is complete: when what it holds (every file's path, size
/// and modification time) has not changed for a set time. A copy in progress keeps changing; a finished one stops.
///
/// Pure state, no clock and no file system, so every case is tested without waiting: ``observe(_:now:)`` takes one
/// look at the watch folder and returns the folders that became stable with it.
struct StabilityTracker: Sendable {
    /// How long a folder must stay unchanged.
    let stableFor: Duration
    private var seen: [String: (fingerprint: Int, since: ContinuousClock.Instant)] = [:]
    private var taken: Set<String> = []

    init(stableFor: Duration) { self.stableFor = stableFor }

    /// One look: `fingerprints` holds every study folder's name and the hash of what it holds now. Returns the
    /// names that have been unchanged for ``stableFor`` and were not returned before, sorted.
    mutating func observe(_ fingerprints: [String: Int], now: ContinuousClock.Instant) -> [String] {
        for name in Array(seen.keys) where fingerprints[name] == nil { seen[name] = nil }
        taken.formIntersection(fingerprints.keys)
        var stable: [String] = []
        for (name, fingerprint) in fingerprints where !taken.contains(name) {
            if let previous = seen[name], previous.fingerprint == fingerprint {
                if now - previous.since >= stableFor { stable.append(name) }
            } else {
                seen[name] = (fingerprint, now)
            }
        }
        taken.formUnion(stable)
        return stable.sorted()
    }

    /// Forgets a folder that was taken and has been moved away: a folder of the same name that appears later, even
    /// before the next look, is a new study.
    mutating func release(_ name: String) {
        taken.remove(name)
        seen[name] = nil
    }
}
