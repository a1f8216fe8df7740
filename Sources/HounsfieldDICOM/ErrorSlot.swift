import Synchronization

/// Keeps the first error raised by any of several worker threads.
final class ErrorSlot: Sendable {
    private let storage = Mutex<DICOMError?>(nil)

    func record(_ error: DICOMError) { storage.withLock { $0 = $0 ?? error } }

    var first: DICOMError? { storage.withLock { $0 } }
}
