import Foundation
import Logging

/// A shard its writer has closed and not yet published: the file is complete as `.partial`; what remains is to make
/// it durable and visible (fsync, rename, fsync the folder, append its manifest lines).
///
/// Why apart from the writer: a worker or a daemon publishes a shard at every study, and those syncs (7–10 ms on a
/// VM disk) held the write stage, the busiest of the pipeline, at every one (decision 69). None of it touches HDF5
/// or the writer's open shard, so ``complete()`` runs on another thread while the writer fills the next shard.
/// Completing it is the caller's duty, before its keys are reported as published.
public struct PendingPublication: Sendable {
    /// The shard's file name, as it will be published.
    public let shard: String
    /// Its manifest lines.
    public let entries: [ManifestEntry]
    let partialPath: String
    let finalPath: String
    let folderPath: String
    let manifestPath: String
    let record: PublicationRecord
    let failureFlag: OutputFailureFlag
    let logger: Logger

    /// Makes the shard durable and visible, then lists its lines. Any failure before the rename leaves the shard
    /// `.partial`; after it, the shard is complete and resuming recovers its missing lines. Either way the writer's
    /// output has failed: the flag is raised and the writer takes no more volumes.
    ///
    /// An output failure the writer met after closing this shard (the next volume's write, on a full disk) does not
    /// stop it: the shard was complete when closed, and is published like every shard before the failure.
    public func complete() throws(ShardError) {
        try complete(announcedByWriter: false)
    }

    func complete(announcedByWriter: Bool) throws(ShardError) {
        do {
            try Durability.sync(partialPath)
            try Durability.renameAtomically(partialPath, to: finalPath)
        } catch {
            throw failed(error, path: partialPath)
        }
        do {
            try Durability.syncDirectory(folderPath)
            try record.appending.withLock { (_: inout ()) throws(ShardError) in try Self.append(entries, to: manifestPath) }
        } catch {
            throw failed(error, path: finalPath)
        }
        record.commit(entries, announce: announcedByWriter)
        logger.debug("published shard", metadata: ["shard": "\(shard)", "volumes": "\(entries.count)"])
    }

    /// Appends manifest lines to a manifest file, synced.
    static func append(_ entries: [ManifestEntry], to path: String) throws(ShardError) {
        guard !entries.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8] = []
        for entry in entries {
            guard let line = try? encoder.encode(entry) else { continue }
            bytes += line
            bytes.append(UInt8(ascii: "\n"))
        }
        try Durability.append(bytes, to: path)
    }

    private func failed(_ error: ShardError, path: String) -> ShardError {
        .outputFailed(failureFlag.raise(error, operation: "publish", path: path, folder: folderPath, logger: logger))
    }
}
