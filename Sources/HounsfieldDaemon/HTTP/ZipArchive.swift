import Foundation
import ZIPFoundation

/// The regular files of a zip body, extracted in memory with ZIPFoundation, their CRC-32 checked. Directories are
/// skipped; symbolic links and names that climb out of the archive refuse the upload, as in ``TarArchive``. The
/// members may expand to at most `maxExpandedBytes` in all, so a small zip that inflates to terabytes (a zip bomb)
/// is refused once it passes that, whatever its directory claims.
enum ZipArchive {
    /// Each file's name and bytes, in archive order. Throws a 400 ``HTTPFailure`` for a damaged archive or a
    /// refused member, a 413 one past `maxExpandedBytes`.
    static func files(of body: [UInt8], maxExpandedBytes: Int) throws(HTTPFailure) -> [(name: String, bytes: [UInt8])] {
        let archive: Archive
        do {
            archive = try Archive(data: Data(body), accessMode: .read)
        } catch {
            throw malformed("it cannot be opened (\(error)); is it a zip file?")
        }
        var files: [(name: String, bytes: [UInt8])] = []
        var expanded = 0
        for entry in archive {
            switch entry.type {
            case .directory:
                try TarArchive.check(entry.path)
                continue
            case .symlink:
                throw malformed("member \(entry.path) is a symbolic link; send the files themselves")
            case .file:
                break
            }
            try TarArchive.check(entry.path)
            var bytes: [UInt8] = []
            // The directory's size is a hint, never trusted past the limit or 256 MiB.
            bytes.reserveCapacity(Int(min(entry.uncompressedSize, UInt64(min(maxExpandedBytes - expanded, 256 << 20)))))
            do {
                let crc = try archive.extract(entry, consumer: { chunk in
                    guard expanded + bytes.count + chunk.count <= maxExpandedBytes else { throw TooLarge() }
                    bytes.append(contentsOf: chunk)
                })
                guard crc == entry.checksum else { throw malformed("member \(entry.path) fails its CRC-32 check") }
            } catch is TooLarge {
                throw HTTPFailure(status: .contentTooLarge,
                                  error: "the zip's members expand to more than \(maxExpandedBytes) bytes",
                                  hint: "send one study per request; a zip may expand to at most four times the body limit")
            } catch let failure as HTTPFailure {
                throw failure
            } catch {
                throw malformed("member \(entry.path) cannot be extracted (\(error))")
            }
            expanded += bytes.count
            files.append((name: entry.path, bytes: bytes))
        }
        return files
    }

    private struct TooLarge: Error {}

    private static func malformed(_ what: String) -> HTTPFailure {
        HTTPFailure(status: .badRequest, error: "the zip body is malformed: \(what)",
                    hint: "send a zip of the study's files (stored or deflated), or a tar, or multipart/related with one instance per part")
    }
}
