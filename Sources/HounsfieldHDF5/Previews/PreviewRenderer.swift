import CTurboJPEG
import Foundation
import HounsfieldCore

/// Draws a volume's axial, coronal and sagittal mid-slices side by side, in millimetre-square pixels, and encodes
/// them as a grayscale JPEG with TurboJPEG.
struct PreviewRenderer {
    let options: PreviewOptions

    /// Writes `previews/<key>.jpg` into the folder and returns its relative path.
    func write<S: ShardScalar>(_ volume: Volume<S>, key: String, metadata: VolumeMetadata, in folder: OutputFolder) throws(ShardError) -> String {
        let relative = "previews/\(key).jpg"
        let directory = folder.url.appendingPathComponent("previews")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory.path, operation: "create folder", errno: Int32((error as NSError).code))
        }
        let image = render(volume, metadata: metadata)
        let jpeg = try encode(image)
        try Durability.replace(folder.url.appendingPathComponent(relative).path, with: jpeg)
        return relative
    }

    /// An 8-bit gray image, row by row.
    struct Gray {
        var width: Int
        var height: Int
        var pixels: [UInt8]
    }

    /// The three views on one canvas, 4 pixels apart, top-aligned.
    func render<S: ShardScalar>(_ volume: Volume<S>, metadata: VolumeMetadata) -> Gray {
        let size = volume.size, spacing = volume.geometry.spacing
        let extent = [Double(size.x) * spacing.x, Double(size.y) * spacing.y, Double(size.z) * spacing.z]
        let pixelsPerMM = Double(max(16, options.size)) / max(extent.max() ?? 1, 1e-6)
        let (low, high) = displayRange(volume, metadata: metadata)
        // Which way k runs on screen: superior at the top when the slice normal points up (z of LPS grows superior).
        let kUp = volume.geometry.direction.z.z >= 0
        let (i0, j0, k0) = (size.x / 2, size.y / 2, size.z / 2)
        // Each view: width and height in pixels, and the voxel index for a pixel (u, v) in [0, 1).
        let views: [(Int, Int, (Double, Double) -> (Int, Int, Int))] = [
            (pixels(extent[0], pixelsPerMM), pixels(extent[1], pixelsPerMM), { u, v in
                (Int(u * Double(size.x)), Int(v * Double(size.y)), k0) }),
            (pixels(extent[0], pixelsPerMM), pixels(extent[2], pixelsPerMM), { u, v in
                (Int(u * Double(size.x)), j0, kUp ? size.z - 1 - Int(v * Double(size.z)) : Int(v * Double(size.z))) }),
            (pixels(extent[1], pixelsPerMM), pixels(extent[2], pixelsPerMM), { u, v in
                (i0, Int(u * Double(size.y)), kUp ? size.z - 1 - Int(v * Double(size.z)) : Int(v * Double(size.z))) }),
        ]
        let gap = 4
        let width = views.map(\.0).reduce(0, +) + gap * (views.count - 1)
        let height = views.map(\.1).max() ?? 1
        var canvas = Gray(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height))
        var left = 0
        let scale = high > low ? 255 / (high - low) : 0
        for (w, h, index) in views {
            for v in 0..<h {
                for u in 0..<w {
                    let (i, j, k) = index((Double(u) + 0.5) / Double(w), (Double(v) + 0.5) / Double(h))
                    let value = volume[min(max(i, 0), size.x - 1), min(max(j, 0), size.y - 1), min(max(k, 0), size.z - 1)].doubleValue
                    let gray = value.isNaN ? 0 : min(255, max(0, (value - low) * scale))
                    canvas.pixels[v * width + left + u] = UInt8(gray.rounded())
                }
            }
            left += w + gap
        }
        return canvas
    }

    private func pixels(_ millimetres: Double, _ perMM: Double) -> Int { max(1, Int((millimetres * perMM).rounded())) }

    /// The stored-value range that maps to black…white.
    func displayRange<S: ShardScalar>(_ volume: Volume<S>, metadata: VolumeMetadata) -> (Double, Double) {
        switch options.window {
        case .hounsfield(let level, let width):
            return (level - width / 2, level + width / 2)
        case .automatic where metadata.window == nil && metadata.normalization == nil && S.self != UInt8.self:
            return (40 - 200, 40 + 200)
        case .automatic, .percentiles:
            let size = volume.size
            var values: [Double] = []
            values.reserveCapacity(size.x * size.y + size.x * size.z + size.y * size.z)
            for j in 0..<size.y { for i in 0..<size.x { values.append(volume[i, j, size.z / 2].doubleValue) } }
            for k in 0..<size.z { for i in 0..<size.x { values.append(volume[i, size.y / 2, k].doubleValue) } }
            for k in 0..<size.z { for j in 0..<size.y { values.append(volume[size.x / 2, j, k].doubleValue) } }
            values = values.filter { !$0.isNaN }.sorted()
            guard let first = values.first, let last = values.last else { return (0, 1) }
            let low = values[Int(Double(values.count - 1) * 0.005)]
            let high = values[Int(Double(values.count - 1) * 0.995)]
            return high > low ? (low, high) : (first, last > first ? last : first + 1)
        }
    }

    func encode(_ image: Gray) throws(ShardError) -> [UInt8] {
        guard let handle = tjInitCompress() else { throw .invalidRequest("TurboJPEG could not start a compressor") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var length: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_GRAY.rawValue),
                        &output, &length, Int32(TJSAMP_GRAY.rawValue), Int32(min(100, max(1, options.quality))), 0)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else {
            throw .invalidRequest("TurboJPEG could not encode a preview: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }
}
