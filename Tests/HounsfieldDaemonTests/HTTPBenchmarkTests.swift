import Foundation
import Hounsfield
@testable import HounsfieldDaemon
import HounsfieldTestSupport
import Testing

/// Time to answer a full-size CT (512×512×300, 157 MB of DICOM) over curl on loopback: opt-in
/// (`HOUNSFIELD_HTTP_BENCH=1`), since it writes 160 MB and means something only in a release build. Prints, per run,
/// curl's total and the server's own `Server-Timing` (upload, process), so the HTTP path's share is the total less
/// the processing.
@Suite("HTTP API: benchmark")
struct HTTPBenchmarkTests {
    @Test("512×512×300 over curl", .enabled(if: ProcessInfo.processInfo.environment["HOUNSFIELD_HTTP_BENCH"] != nil),
          .timeLimit(.minutes(30)))
    func fullSizeStudy() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let files = try HTTPTestSupport.study(in: root.appendingPathComponent("study"), size: 512, slices: 300)
        let body = root.appendingPathComponent("body")
        try HTTPTestSupport.multipart(files, boundary: "bench-boundary-0123456789").write(to: body)
        let runs = Int(ProcessInfo.processInfo.environment["HOUNSFIELD_HTTP_BENCH"] ?? "") ?? 5
        for (name, configuration) in [("float32, no chain", RunConfiguration()), ("1.5 mm, window, uint8", HTTPTestSupport.configuration(dtype: .uint8, scale: 255))] {
            var configuration = configuration
            configuration.privacy.salt = "bench"
            try await HTTPTestSupport.withService(configuration: configuration) { _, base in
                for run in 0..<runs {
                    let answer = try await HTTPTestSupport.curl([
                        "-H", #"Content-Type: multipart/related; type="application/dicom"; boundary=bench-boundary-0123456789"#,
                        "--data-binary", "@\(body.path)", "\(base)/v1/studies",
                    ], in: root)
                    print("http-bench \(name) run \(run): status \(answer.status), \(answer.body.count) bytes, \(answer.seconds ?? -1) s, server-timing \(answer.headers["server-timing"] ?? "-")")
                }
            }
        }
    }
}
