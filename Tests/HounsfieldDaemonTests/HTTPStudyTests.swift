import Crypto
import Foundation
import Hounsfield
@testable import HounsfieldDaemon
import HounsfieldTestSupport
import Prometheus
import Testing

/// `POST /v1/studies` with real clients (curl, Python's requests and safetensors): the answer holds exactly the
/// bytes `hounsfield run` stores for the same files and configuration, whatever the body's form.
@Suite("HTTP API: studies")
struct HTTPStudyTests {
    @Test("a STOW-RS multipart upload by curl answers the shard's exact bytes, with geometry and counts", .timeLimit(.minutes(5)))
    func multipartByCurl() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let studyFolder = root.appendingPathComponent("study")
        let files = try HTTPTestSupport.study(in: studyFolder)
        let configuration = HTTPTestSupport.configuration()
        let expected = try await HTTPTestSupport.shardBytes(of: studyFolder, configuration: configuration, scratch: root)
        let body = root.appendingPathComponent("body")
        try HTTPTestSupport.multipart(files, boundary: "hounsfield-boundary-1").write(to: body)

        let answer = try await HTTPTestSupport.withService(configuration: configuration) { _, base in
            try await HTTPTestSupport.curl([
                "-H", #"Content-Type: multipart/related; type="application/dicom"; boundary="hounsfield-boundary-1""#,
                "--data-binary", "@\(body.path)", "\(base)/v1/studies",
            ], in: root)
        }
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(answer.headers["content-type"] == "application/vnd.safetensors")
        #expect(answer.headers["hounsfield-volumes"] == "1")
        #expect(answer.headers["hounsfield-files"] == String(files.count))
        #expect(answer.headers["hounsfield-excluded-files"] == "0")
        #expect(answer.headers["hounsfield-configuration-key"] == configuration.key)
        let file = try Safetensors(answer.body)
        #expect(file.headerLength % 8 == 0)
        #expect(Set(file.tensors.keys) == Set(expected.keys))
        let key = try #require(expected.keys.first)
        let tensor = try #require(file.tensors[key])
        #expect(tensor.dtype == "F32")
        #expect(tensor.bytes == expected[key])
        // 64 × 0.9 mm = 57.6 mm → 39 voxels of 1.5 mm in x and y; 20 × 2 mm → 27 in z. Shape is [z, y, x].
        #expect(tensor.shape.count == 3 && tensor.bytes.count == tensor.shape.reduce(4, *))
        #expect(file.metadata["\(key).spacing"] == "[1.5,1.5,1.5]")
        let size = try JSONSerialization.jsonObject(with: Data(try #require(file.metadata["\(key).size"]).utf8)) as? [Int]
        #expect(size == [tensor.shape[2], tensor.shape[1], tensor.shape[0]])
        #expect(file.metadata["\(key).direction"] != nil && file.metadata["\(key).origin"] != nil)
        #expect(file.metadata["configuration_key"] == configuration.key)
        #expect(file.metadata["format"] == "hounsfield-study/1")
        // Per-volume values are JSON (strings quoted): the checksum is the one the manifest records.
        let checksum = try JSONDecoder().decode(String.self, from: Data(try #require(file.metadata["\(key).checksum"]).utf8))
        #expect(checksum.hasPrefix("sha256-slices:"))
        // Identifiers are hashed by default: no free text that could name the patient.
        #expect(file.metadata["\(key).series_description"] == nil)
        #expect(!file.metadata.values.contains { $0.contains("1.2.826") || $0.contains("2.25.") })
    }

    @Test("a study uploaded with its SEGs is answered with its labels: KEY.label beside the image, the summary in the metadata")
    func labelsInTheAnswer() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let set = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/testdata/labels-dicom-seg/liver-3slice")
        let files = try ["ct", "seg"].flatMap { folder in
            try FileManager.default.contentsOfDirectory(atPath: set.appendingPathComponent(folder).path).sorted()
                .filter { $0.hasSuffix(".dcm") }.map { set.appendingPathComponent(folder).appendingPathComponent($0) }
        }
        let body = root.appendingPathComponent("body")
        try HTTPTestSupport.multipart(files, boundary: "hounsfield-boundary-2").write(to: body)
        let answer = try await HTTPTestSupport.withService { _, base in
            try await HTTPTestSupport.curl([
                "-H", #"Content-Type: multipart/related; type="application/dicom"; boundary="hounsfield-boundary-2""#,
                "--data-binary", "@\(body.path)", "\(base)/v1/studies",
            ], in: root)
        }
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
        let file = try Safetensors(answer.body)
        let key = try #require(file.tensors.keys.first { !$0.hasSuffix(".label") })
        let image = try #require(file.tensors[key]), label = try #require(file.tensors[key + ".label"])
        #expect(label.dtype == "U8")
        #expect(label.shape == [6] + image.shape, "six overlapping segments are channels on the image's grid")
        #expect(label.bytes.count == label.shape.reduce(1, *))
        let summary = try JSONDecoder().decode(LabelSummary.self, from: Data(try #require(file.metadata["\(key).labels"]).utf8))
        #expect(summary.layout == .channels && summary.classes["1"] == "Liver" && summary.classes.count == 6)
        #expect(file.metadata["keys"] == "[\"\(key)\"]")
    }

    @Test("the Python client (requests, safetensors.numpy) gets the shard's bytes, dtype and shape",
          .enabled(if: PythonPeer.shouldRun), .timeLimit(.minutes(5)))
    func pythonClient() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let studyFolder = root.appendingPathComponent("study")
        let files = try HTTPTestSupport.study(in: studyFolder, seed: 11)
        let configuration = HTTPTestSupport.configuration()
        let expected = try await HTTPTestSupport.shardBytes(of: studyFolder, configuration: configuration, scratch: root)
        var options = HTTPOptions()
        options.bearerToken = "secret-token"
        let output = try await HTTPTestSupport.withService(options, configuration: configuration) { _, base in
            try await PythonPeer.output("http_study_client.py", arguments: ["\(base)/v1/studies", "secret-token"] + files.map(\.path))
        }
        let result = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect(result["status"] as? Int == 200, "\(result)")
        let tensors = try #require(result["tensors"] as? [String: [String: Any]])
        let key = try #require(expected.keys.first)
        let tensor = try #require(tensors[key])
        #expect(tensor["dtype"] as? String == "float32")
        #expect(tensor["c_contiguous"] as? Bool == true)
        #expect(tensor["sha256"] as? String == SHA256.hash(data: try #require(expected[key])).map { String(format: "%02x", $0) }.joined())
        let metadata = try #require(result["metadata"] as? [String: String])
        #expect(metadata["\(key).spacing"] == "[1.5,1.5,1.5]")
        if let torch = result["torch"] as? [String: [Int]] { #expect(torch[key] == tensor["shape"] as? [Int]) }
    }

    @Test("tar and zip bodies give the same bytes; a member that is not DICOM is an excluded file; uint8 is U8",
          .timeLimit(.minutes(5)))
    func archives() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let studyFolder = root.appendingPathComponent("study")
        try HTTPTestSupport.study(in: studyFolder, seed: 5)
        let configuration = HTTPTestSupport.configuration(dtype: .uint8, scale: 255)
        let expected = try await HTTPTestSupport.shardBytes(of: studyFolder, configuration: configuration, scratch: root)
        // A note beside the slices, in a subfolder: the archive has a directory entry and a non-DICOM member.
        try FileManager.default.createDirectory(at: studyFolder.appendingPathComponent("notes"), withIntermediateDirectories: true)
        try Data("acquired on the synthetic scanner\n".utf8).write(to: studyFolder.appendingPathComponent("notes/README.txt"))
        let tar = root.appendingPathComponent("study.tar"), zip = root.appendingPathComponent("study.zip")
        let tarRun = try await ChildProcess.run("/usr/bin/tar", ["-cf", tar.path, "-C", root.path, "study"], logs: root)
        #expect(tarRun.status == 0, "\(tarRun.standardError)")
        let zipRun = try await ChildProcess.run("/bin/sh", ["-c", "cd '\(root.path)' && zip -q -r '\(zip.path)' study"], logs: root)
        #expect(zipRun.status == 0, "\(zipRun.standardError)")

        try await HTTPTestSupport.withService(configuration: configuration) { _, base in
            for (file, type) in [(tar, "application/x-tar"), (zip, "application/zip")] {
                let answer = try await HTTPTestSupport.curl(["-H", "Content-Type: \(type)", "--data-binary", "@\(file.path)", "\(base)/v1/studies"], in: root)
                #expect(answer.status == 200, "\(type): \(String(decoding: answer.body, as: UTF8.self))")
                #expect(answer.headers["hounsfield-excluded-files"] == "1", "\(type)")
                let tensors = try Safetensors(answer.body).tensors
                let key = try #require(expected.keys.first)
                #expect(tensors[key]?.dtype == "U8", "\(type)")
                #expect(tensors[key]?.bytes == expected[key], "\(type)")
            }
            // A tar whose member climbs out of the archive is refused whole.
            let evil = root.appendingPathComponent("evil.tar")
            let evilRun = try await ChildProcess.run("/usr/bin/tar", ["-cf", evil.path, "-C", studyFolder.path, "-P", "--transform", "s,^,../,", "notes"], logs: root)
            #expect(evilRun.status == 0, "\(evilRun.standardError)")
            let refused = try await HTTPTestSupport.curl(["-H", "Content-Type: application/x-tar", "--data-binary", "@\(evil.path)", "\(base)/v1/studies"], in: root)
            #expect(refused.status == 400)
            #expect((refused.json["error"] as? String)?.contains("outside the archive") == true, "\(refused.json)")
            #expect(refused.json["hint"] is String)
        }
    }

    @Test("nothing selected is 422 with discovery's reasons; other media types 415; malformed multipart 400",
          .timeLimit(.minutes(5)))
    func refusals() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let junk = root.appendingPathComponent("junk.bin")
        try Data(repeating: 7, count: 4096).write(to: junk)
        try await HTTPTestSupport.withService { _, base in
            let none = try await HTTPTestSupport.curl(["-H", "Content-Type: application/dicom", "--data-binary", "@\(junk.path)", "\(base)/v1/studies"], in: root)
            #expect(none.status == 422)
            #expect(none.headers["content-type"]?.hasPrefix("application/json") == true)
            #expect((none.json["error"] as? String)?.contains("no series found") == true, "\(none.json)")
            #expect((none.json["error"] as? String)?.contains("not DICOM") == true, "\(none.json)")
            #expect((none.json["hint"] as? String)?.isEmpty == false)
            let text = try await HTTPTestSupport.curl(["-H", "Content-Type: text/plain", "--data-binary", "@\(junk.path)", "\(base)/v1/studies"], in: root)
            #expect(text.status == 415)
            #expect((text.json["hint"] as? String)?.contains("multipart/related") == true)
            let cut = try await HTTPTestSupport.curl(["-H", "Content-Type: multipart/related; boundary=abc", "--data-binary", "--abc\r\n\r\npart without end", "\(base)/v1/studies"], in: root)
            #expect(cut.status == 400)
            #expect((cut.json["error"] as? String)?.contains("closing boundary") == true, "\(cut.json)")
            let unknown = try await HTTPTestSupport.curl(["\(base)/v2/anything"], in: root)
            #expect(unknown.status == 404)
            let method = try await HTTPTestSupport.curl(["\(base)/v1/studies"], in: root)
            #expect(method.status == 405)
            #expect(method.headers["allow"] == "POST")
        }
    }
}
