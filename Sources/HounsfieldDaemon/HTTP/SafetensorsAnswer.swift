import HounsfieldCore
import HounsfieldPipeline
import Hummingbird
import NIOCore

/// A study's safetensors answer (``SafetensorsEncoding``) whose header is written and whose tensors are still the
/// volumes' own memory: they are copied into the connection 512 KiB at a time, as it takes them.
///
/// A W1 answer is 192 MB. Built whole, it cost a fresh 192 MB buffer per request (page faults and zeroing on top of
/// the copy) before the first byte left, and held twice the voxels while it was sent. Written piece by piece, the
/// copy overlaps the client's download, and the memory a request holds beyond its volumes is one piece per
/// connection (the writer waits while the socket is full). Only the checksums have to come first, since the
/// header carries them: they are computed by hashing the voxels in place, on all cores.
///
/// The value is immutable and shares the volumes' storage, so the idempotency cache keeps and replays it without a
/// copy.
struct SafetensorsAnswer: Sendable {
    /// The 8-byte header length and the JSON header.
    let header: ByteBuffer
    /// The volumes whose bytes follow, in the header's order: each image, then its label tensor when it has one.
    let volumes: [ProcessedVolume]
    /// The whole answer's length: `Content-Length`.
    let byteCount: Int

    /// How much is copied into one buffer for the connection: under the 1 MiB mmap threshold a long-running
    /// process sets (decision 43), so pieces come from malloc's arenas and reuse their pages instead of being
    /// mapped, faulted in and unmapped each time.
    static let pieceBytes = 512 << 10

    /// Writes the answer to a response body (the header, then every tensor in pieces), without finishing it.
    func write(to writer: inout any ResponseBodyWriter) async throws {
        try await writer.write(header)
        for volume in volumes {
            let image = volume.image
            try await Self.write(image.byteCount, to: &writer) { range in image.withStoredBytes { Self.piece($0, range) } }
            guard let labels = volume.labels else { continue }
            if let values = labels.values, labels.needsTwoBytes {
                try await Self.write(values.voxels.count * 2, to: &writer) { range in
                    values.voxels.withUnsafeBytes { Self.piece($0, range) }
                }
            } else if let values = labels.values {
                try await Self.write(values.voxels.count, to: &writer) { range in
                    var buffer = ByteBufferAllocator().buffer(capacity: range.count)
                    buffer.writeBytes(values.voxels[range].lazy.map { UInt8(truncatingIfNeeded: $0) })
                    return buffer
                }
            } else {
                for channel in labels.channels {
                    try await Self.write(channel.voxels.count, to: &writer) { range in
                        channel.voxels.withUnsafeBytes { Self.piece($0, range) }
                    }
                }
            }
        }
    }

    /// Writes `count` bytes as pieces of at most ``pieceBytes``, each made by `piece` from its byte range.
    private static func write(
        _ count: Int, to writer: inout any ResponseBodyWriter, _ piece: (Range<Int>) -> ByteBuffer
    ) async throws {
        var start = 0
        while start < count {
            let end = min(start + pieceBytes, count)
            try await writer.write(piece(start..<end))
            start = end
        }
    }

    /// The bytes of `range` in a buffer of their own.
    private static func piece(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: range.count)
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range]))
        return buffer
    }
}
