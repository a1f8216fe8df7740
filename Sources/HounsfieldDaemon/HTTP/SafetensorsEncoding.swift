import Foundation
import HounsfieldCore
import HounsfieldHDF5
import HounsfieldPipeline
import NIOCore

/// A study's processed volumes as one safetensors file (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length, a JSON header, then every tensor's bytes. PyTorch reads the answer in one line,
/// `safetensors.torch.load(response.content)`, numpy with `safetensors.numpy.load`.
///
/// Each tensor is named by its volume's output key and holds exactly the bytes the HDF5 shard stores for that key:
/// the configured dtype, shape `[z, y, x]` in C order (x fastest). The header's `__metadata__` (strings only, as
/// the format wants) carries what the shard keeps beside the voxels, per key as `KEY.NAME`, each value JSON
/// (numbers and arrays as such, strings quoted, so `json.loads` reads every one): `spacing`, `origin`, `size`
/// (x, y, z, as SimpleITK orders them), `direction` (row-major 3×3), `affine_lps`, `affine_ras`, `dtype`,
/// `checksum` (the manifest's, so a volume can be checked against a training set), `value_scale`, `window`,
/// `normalization`, `transform_key`, `original_size`, `original_spacing`, `modality`, `source_series` and
/// `source_study` (salted hashes), `warnings`; `series_description` only when the configuration keeps
/// identifiers, since the free text may name the patient. Study-wide, plain strings: `format`,
/// `configuration_key`, `software_version`; and `keys`, the image tensor names in order as a JSON array.
///
/// A volume with labels (a DICOM SEG, RTSTRUCT or NIfTI label map in the upload) has a second tensor, `KEY.label`:
/// `U8` (`U16` when a class value is above 255), `[z, y, x]` class values or `[C, z, y, x]` channels when classes
/// overlap, the bytes the shard stores; and
/// `KEY.labels` in the metadata, the manifest's label summary (layout, classes, voxels per class, warnings).
enum SafetensorsEncoding {
    /// The media type of the answer. safetensors has no registered type; this vendor type names the format, and
    /// clients that only look at the bytes need not care.
    static let mediaType = "application/vnd.safetensors"
    /// `format` in the metadata: bumped when the layout of the metadata changes.
    static let format = "hounsfield-study/1"

    /// The answer laid out: each image's checksum computed (all cores hash, nothing is copied), the header written
    /// with them; the tensors' bytes stay in the volumes until the connection takes them (``SafetensorsAnswer``).
    static func answer(_ volumes: [ProcessedVolume], configurationKey: String, keepsIdentifiers: Bool) -> SafetensorsAnswer {
        let checksums = volumes.map(\.image.checksum)
        let laidOut = header(volumes, checksums: checksums, configurationKey: configurationKey, keepsIdentifiers: keepsIdentifiers)
        var buffer = ByteBufferAllocator().buffer(capacity: 8 + laidOut.header.count)
        buffer.writeInteger(UInt64(laidOut.header.count), endianness: .little)
        buffer.writeBytes(laidOut.header)
        return SafetensorsAnswer(header: buffer, volumes: volumes, byteCount: buffer.readableBytes + laidOut.dataBytes)
    }

    /// The JSON header (padded to 8 bytes) with each volume's image checksum given, and the bytes of the tensors
    /// after it.
    private static func header(
        _ volumes: [ProcessedVolume], checksums: [String], configurationKey: String, keepsIdentifiers: Bool
    ) -> (header: [UInt8], dataBytes: Int) {
        var metadata = [
            "format": format, "configuration_key": configurationKey, "software_version": ShardFormat.softwareVersion,
            "keys": json(volumes.map(\.key)),
        ]
        var tensors: [String] = []
        var offset = 0
        for (volume, checksum) in zip(volumes, checksums) {
            for (name, value) in describe(volume, checksum: checksum, keepsIdentifiers: keepsIdentifiers) {
                metadata["\(volume.key).\(name)"] = value
            }
            let size = volume.size, count = volume.image.byteCount
            tensors.append("\(json(volume.key)):{\"dtype\":\"\(dtype(volume.image.elementType))\",\"shape\":[\(size.z),\(size.y),\(size.x)],\"data_offsets\":[\(offset),\(offset + count)]}")
            offset += count
            if let labels = volume.labels {
                let bytes = labelBytes(labels)
                let shape = labels.layout == .channels ? [labels.channels.count, size.z, size.y, size.x] : [size.z, size.y, size.x]
                tensors.append("\(json(volume.key + ".label")):{\"dtype\":\"\(labels.needsTwoBytes ? "U16" : "U8")\",\"shape\":\(json(shape)),\"data_offsets\":[\(offset),\(offset + bytes)]}")
                offset += bytes
                metadata["\(volume.key).labels"] = LabelSummary(
                    labels, sources: volume.labelSources, warnings: volume.labelWarnings).json
            }
        }
        var header = Array("{\"__metadata__\":\(json(metadata))".utf8)
        for tensor in tensors { header += Array(",".utf8) + Array(tensor.utf8) }
        header.append(UInt8(ascii: "}"))
        // Padded with spaces so the tensors start 8-byte aligned, as the reference writer does.
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        return (header, offset)
    }

    /// Bytes of a volume's label tensor, stored as the shard stores it: one byte a voxel (two when a class value is
    /// above 255), per channel for the channel layout.
    private static func labelBytes(_ labels: LabelMap) -> Int {
        labels.size.voxelCount * (labels.layout == .channels ? labels.channels.count : labels.needsTwoBytes ? 2 : 1)
    }

    /// safetensors' name of a dtype.
    static func dtype(_ type: ShardElementType) -> String {
        switch type {
        case .float32: "F32"
        case .float16: "F16"
        case .int16: "I16"
        case .uint8: "U8"
        case .uint16: "U16"
        }
    }

    /// One volume's metadata entries, each value JSON.
    private static func describe(_ volume: ProcessedVolume, checksum: String, keepsIdentifiers: Bool) -> [String: String] {
        let geometry = volume.geometry, metadata = volume.metadata
        var entries = [
            "spacing": json(geometry.spacing.array), "origin": json(geometry.origin.array),
            "size": json(volume.size.array), "direction": json(geometry.direction.rowMajor),
            "affine_lps": json(geometry.affineLPS), "affine_ras": json(geometry.affineRAS),
            "dtype": json(volume.image.elementType.rawValue), "checksum": json(checksum),
            "value_scale": json(metadata.valueScale), "transform_key": json(metadata.transformKey),
            "original_size": json((metadata.originalSize ?? volume.size).array),
            "original_spacing": json((metadata.originalSpacing ?? geometry.spacing).array),
            "modality": json(metadata.modality), "source_series": json(metadata.sourceSeries),
            "source_study": json(metadata.sourceStudy), "warnings": json(metadata.warnings),
        ]
        if let window = metadata.window { entries["window"] = json([window.lowerBound, window.upperBound]) }
        if let normalization = metadata.normalization { entries["normalization"] = normalization }
        if keepsIdentifiers, let description = volume.seriesDescription { entries["series_description"] = json(description) }
        return entries
    }

    /// JSON of a value, keys sorted, numbers in their shortest exact form.
    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}
