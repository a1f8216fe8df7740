import Foundation
import HounsfieldCore
import HounsfieldHDF5
import Synchronization

/// A folder that users and scripts drop study folders into. Each study folder is taken once its content has been
/// stable for ``stableFor`` (a copy still running keeps changing it), processed, then moved to `done/` or, with a
/// `<name>.reason.txt` beside it, to `failed/`. Both live inside the watch folder and are never watched.
///
/// Nothing is lost if the daemon stops or crashes meanwhile: a folder leaves the watched area only after its
/// volumes are published, so the next start takes it again, and the output's manifest makes that a resume.
public struct WatchFolder: Sendable {
    /// The watched folder.
    public var folder: URL
    /// How long a study folder must stay unchanged before it is taken (default 30 s).
    public var stableFor: Duration = .seconds(30)
    /// How often the folder is looked at (default 2 s).
    public var pollEvery: Duration = .seconds(2)
    /// Names moved out by ``finish(_:failure:)`` since the last look, for the watcher to forget.
    private let released = Released()

    /// Watches `folder` (created when missing).
    public init(folder: URL) { self.folder = folder }

    /// Where finished study folders go.
    public var doneFolder: URL { folder.appendingPathComponent("done") }
    /// Where study folders that failed go, each with its reason.
    public var failedFolder: URL { folder.appendingPathComponent("failed") }

    /// The study folders, as they become stable, until the stream is dropped or its reader cancelled. Loose files
    /// at the top level are not studies and are left alone.
    ///
    /// The folder is looked at from a thread of its own, not from a task: a daemon whose tasks are all busy
    /// converting studies must still notice new ones on time.
    public func studies() -> AsyncStream<URL> {
        let (stream, continuation) = AsyncStream.makeStream(of: URL.self, bufferingPolicy: .unbounded)
        let stopped = CancellationFlag()
        let interval = pollEvery.inSeconds
        let watcher = Thread { [self] in
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var tracker = StabilityTracker(stableFor: stableFor)
            while !stopped.isSet {
                for name in released.names.withLock({ names in defer { names = [] }; return names }) {
                    tracker.release(name)
                }
                for name in tracker.observe(fingerprints(), now: .now) {
                    continuation.yield(folder.appendingPathComponent(name))
                }
                Thread.sleep(forTimeInterval: interval)
            }
            continuation.finish()
        }
        watcher.name = "watch-folder"
        continuation.onTermination = { _ in stopped.set() }
        watcher.start()
        return stream
    }

    /// Moves a processed study folder out of the watched area: to `done/`, or to `failed/` with `reason` written
    /// beside it. A name already taken there gets a numbered suffix; nothing is overwritten.
    public func finish(_ study: URL, failure reason: String? = nil) throws {
        let destination = reason == nil ? doneFolder : failedFolder
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        var target = destination.appendingPathComponent(study.lastPathComponent)
        var suffix = 1
        while FileManager.default.fileExists(atPath: target.path) {
            suffix += 1
            target = destination.appendingPathComponent("\(study.lastPathComponent).\(suffix)")
        }
        if let reason {
            let note = destination.appendingPathComponent("\(target.lastPathComponent).reason.txt")
            try Durability.replace(note.path, with: Array((reason + "\n").utf8))
        }
        try Durability.renameAtomically(study.path, to: target.path)
        try Durability.syncDirectory(destination.path)
        try Durability.syncDirectory(folder.path)
        _ = released.names.withLock { $0.insert(study.lastPathComponent) }
    }

    /// Every study folder's name and a hash of what it holds (relative paths, sizes, modification times).
    func fingerprints() -> [String: Int] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: folder.path) else { return [:] }
        var result: [String: Int] = [:]
        for name in names where name != "done" && name != "failed" && !name.hasPrefix(".") {
            let study = folder.appendingPathComponent(name)
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: study.path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            var hasher = Hasher()
            let walker = manager.enumerator(at: study, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey])
            var entries: [(String, Int, Double)] = []
            while let file = walker?.nextObject() as? URL {
                let values = try? file.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey])
                entries.append((file.path, values?.fileSize ?? -1, values?.contentModificationDate?.timeIntervalSince1970 ?? 0))
            }
            for (path, size, modified) in entries.sorted(by: { $0.0 < $1.0 }) {
                hasher.combine(path)
                hasher.combine(size)
                hasher.combine(modified)
            }
            result[name] = hasher.finalize()
        }
        return result
    }
}

/// The names ``WatchFolder/finish(_:failure:)`` moved out, shared with the watcher's thread.
private final class Released: Sendable {
    let names = Mutex<Set<String>>([])
}
