import Crypto
import Foundation
import Hounsfield
import Testing

/// Helpers for the label tests: scanning one set of a label case, and hashing masks as the references do.
enum LabelTestSupport {
    /// SHA-256 of mask bytes in (z, y, x) C order: the `sha256` of every mask in the label references.
    static func sha256(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() }
    }

    /// The sets of a label case's reference.json (`sets.SET`).
    static func sets(_ folder: String) throws -> [String: [String: Any]] {
        try TestSupport.reference(folder)["sets"] as! [String: [String: Any]]
    }

    /// Scans one set folder and returns the scan and its label object whose file ends with `file`.
    static func labelObject(
        _ folder: String, file: String
    ) async throws -> (scan: ScanResult, label: LabelObjectDescriptor, series: SeriesDescriptor) {
        let scan = try await SeriesScanner().scan([TestSupport.testdata(folder)])
        let label = try #require(scan.labelObjects.first { $0.source.name.hasSuffix("/" + file) })
        let series = try #require(scan.referencedSeries(of: label))
        return (scan, label, series)
    }

    /// A label object decoded both ways onto its series — a mask per class, and in the form a run asks for — with
    /// the masks combined as a run would: what the class-map tests compare. Expects both ways to warn alike.
    static func decodedBothWays(
        _ folder: String, file: String
    ) async throws -> (label: LabelObjectDescriptor, masks: LabelDecoding, compact: LabelDecoding, combined: LabelMap) {
        let (_, label, series) = try await labelObject(folder, file: file)
        let masks = try label.decode(onto: series)
        let compact = try label.decode(onto: series, as: .classIndexWhenDisjoint)
        #expect(compact.warnings == masks.warnings, "\(file)")
        return (label, masks, compact, try LabelMap(segments: masks.segments))
    }

    /// Dice of two binary masks.
    static func dice(_ a: [UInt8], _ b: [UInt8]) -> Double {
        var both = 0, countA = 0, countB = 0
        for (x, y) in zip(a, b) {
            if x != 0 { countA += 1 }
            if y != 0 { countB += 1 }
            if x != 0, y != 0 { both += 1 }
        }
        return countA + countB == 0 ? 1 : 2 * Double(both) / Double(countA + countB)
    }
}
