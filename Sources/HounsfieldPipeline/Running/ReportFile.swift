import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a run's `report.json` into the output folder. When that fails (a full disk, a removed folder) the report
/// goes to standard error instead, so the outcome of a run is never lost. Nothing is deleted to make room: the
/// write is simply tried, and a failed attempt leaves no temporary file behind.
enum ReportFile {
    /// The report as written: pretty, sorted keys, slashes unescaped.
    static func encode(_ report: RunReport) -> Data? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try? encoder.encode(report)
    }

    /// Writes `report` to `url` (a temporary name, fsync, rename); on failure logs why and prints the report on
    /// standard error. Returns whether the file was written.
    @discardableResult
    static func write(_ report: RunReport, to url: URL, logger: Logger) -> Bool {
        guard let data = encode(report) else { return false }
        if let failure = save(Array(data), to: url.path) {
            logger.error("could not write the report; it follows on standard error", metadata: [
                "path": "\(url.path)", "cause": "\(failure)"])
            FileHandle.standardError.write(Data("hounsfield: could not write \(url.path) (\(failure)); the report:\n".utf8))
            FileHandle.standardError.write(data)
            FileHandle.standardError.write(Data("\n".utf8))
            return false
        }
        return true
    }

    /// Writes the file atomically; the error in words on failure.
    private static func save(_ bytes: [UInt8], to path: String) -> String? {
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return String(cString: strerror(errno)).lowercased() }
        func failed() -> String {
            let message = String(cString: strerror(errno)).lowercased()
            close(fd)
            unlink(temporary)
            return message
        }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return failed() }
            done += n
        }
        guard fsync(fd) == 0 else { return failed() }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno)).lowercased()
            unlink(temporary)
            return message
        }
        return nil
    }
}

/// The system call, out of reach of `ReportFile.write`'s name.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
