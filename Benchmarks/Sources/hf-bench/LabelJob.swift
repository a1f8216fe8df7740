import ArgumentParser
import Foundation
import Hounsfield

/// The Hounsfield side of `Benchmarks/labels/bench.py`: scans the folders (CT series and label objects), then decodes
/// every DICOM SEG and RTSTRUCT onto the series it references, `--repeats` times. Prints the scan and decode times
/// apart, per label object, a total per round (scan + decodes; counting and freeing the masks are left out), and the
/// voxel count of every class (from the last round) so the caller can check the masks against the peers'.
struct LabelJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels", abstract: "Time scanning a folder and decoding its label objects onto their series.")

    @Argument(help: "Folders (or files) to scan together: the CT series and its label objects.") var paths: [String]
    /// `--repeat` or `--repeats`.
    @Option(name: [.customLong("repeat"), .customLong("repeats")]) var repeats = 1
    @Flag(help: "Skip counting the voxels of each class.") var noCounts = false
    @Option(help: "Write every class's mask to DIR/<class name>.bits (last round): a bit per voxel, z y x, packbits.")
    var masks: String?

    func run() async throws {
        var scanTimes: [Double] = [], totals: [Double] = []
        var decodeTimes: [String: [Double]] = [:]
        var objects: [[String: Any]] = []
        for round in 0..<repeats {
            let start = ContinuousClock.now
            let scan = try await SeriesScanner().scan(paths)
            scanTimes.append((ContinuousClock.now - start).inSeconds)
            var total = scanTimes[round]
            guard !scan.labelObjects.isEmpty else { throw ValidationError("no label object found in \(paths)") }
            objects = []
            for label in scan.labelObjects {
                guard let series = scan.referencedSeries(of: label) else {
                    throw ValidationError("\(label.source.name): its series is not in the scan")
                }
                let decodeStart = ContinuousClock.now
                let decoding = try label.decode(onto: series)
                let seconds = (ContinuousClock.now - decodeStart).inSeconds
                decodeTimes[label.source.name, default: []].append(seconds)
                total += seconds
                // Counting and freeing the masks are not timed.
                if round == repeats - 1 {
                    objects.append(summary(of: label, decoding))
                    if let masks { try write(decoding, to: masks) }
                }
            }
            totals.append(total)
        }
        for index in objects.indices {
            let times = decodeTimes[objects[index]["file"] as! String] ?? []
            objects[index]["decode_times_s"] = times
            objects[index]["decode_median_s"] = median(times)
        }
        try printJSON(["times_s": totals, "median_s": median(totals), "scan_times_s": scanTimes,
                       "scan_median_s": median(scanTimes), "objects": objects])
    }

    /// What one decoded object gave: its kind, size and the voxels of every class (unless `--no-counts`).
    private func summary(of label: LabelObjectDescriptor, _ decoding: LabelDecoding) -> [String: Any] {
        let classes: [[String: Any]] = decoding.segments.map { segment in
            var entry: [String: Any] = ["value": segment.labelClass.value, "name": segment.labelClass.name]
            if !noCounts { entry["voxels"] = nonzero(segment.binaryMask) }
            return entry
        }
        let size = decoding.segments.first?.mask.size
        return ["file": label.source.name, "kind": label.kind.rawValue, "classes": classes,
                "size": size.map { [$0.z, $0.y, $0.x] } ?? [], "warnings": decoding.warnings]
    }

    /// Writes every class's binary mask as packed bits into `folder`, so a peer's masks can be compared voxel by voxel.
    private func write(_ decoding: LabelDecoding, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for segment in decoding.segments {
            let bits = segment.binaryMask.voxels.withUnsafeBufferPointer { voxels in
                var bits = [UInt8](repeating: 0, count: (voxels.count + 7) / 8)
                for index in voxels.indices where voxels[index] != 0 { bits[index >> 3] |= 0x80 >> UInt8(index & 7) }
                return bits
            }
            let path = (folder as NSString).appendingPathComponent("\(segment.labelClass.name).bits")
            try Data(bits).write(to: URL(fileURLWithPath: path))
        }
    }

    /// How many voxels of `mask` are not zero.
    private func nonzero(_ mask: Volume<UInt8>) -> Int {
        mask.voxels.withUnsafeBufferPointer { buffer in
            var count = 0
            for value in buffer where value != 0 { count += 1 }
            return count
        }
    }
}
