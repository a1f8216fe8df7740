import Crypto
import Foundation
import HounsfieldCore

/// A transform written as data. JSON form: an object with `"type"` and the transform's own fields, e.g.
/// `{"type": "window", "minimum": -1000, "maximum": 1000, "output": "unit"}` or
/// `{"type": "resample", "target": {"spacing": [1, 1, 1]}, "interpolation": "linear"}`.
public indirect enum TransformSpecification: Hashable, Sendable, Codable {
    /// `"type": "window"`.
    case window(Window)
    /// `"type": "resample"`.
    case resample(Resample)
    /// `"type": "nnunet-resample"`.
    case nnUNetResample(NNUNetResample)
    /// `"type": "normalize"`.
    case normalize(Normalize)
    /// `"type": "orient"`.
    case orient(Orient)
    /// `"type": "crop-or-pad"`.
    case cropOrPad(CropOrPad)
    /// `"type": "crop-to-foreground"`.
    case cropToForeground(CropToForeground)
    /// `"type": "compose"`, with the steps in order under `"steps"`.
    case compose([TransformSpecification])

    /// The transform this specification describes, validated.
    public func makeTransform() throws(TransformError) -> any VolumeTransform {
        switch self {
        case .window(let window): try window.validate(); return window
        case .resample(let resample): try resample.validate(); return resample
        case .nnUNetResample(let resample): try resample.validate(); return resample
        case .normalize(let normalize): try normalize.validate(); return normalize
        case .orient(let orient): try orient.validate(); return orient
        case .cropOrPad(let crop): try crop.validate(); return crop
        case .cropToForeground(let crop): try crop.validate(); return crop
        case .compose(let steps):
            var transforms: [any VolumeTransform] = []
            for step in steps { transforms.append(try step.makeTransform()) }
            return Compose(transforms)
        }
    }

    private enum CodingKeys: String, CodingKey { case type, steps }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "window": self = .window(try Window(from: decoder))
        case "resample": self = .resample(try Resample(from: decoder))
        case "nnunet-resample": self = .nnUNetResample(try NNUNetResample(from: decoder))
        case "normalize": self = .normalize(try Normalize(from: decoder))
        case "orient": self = .orient(try Orient(from: decoder))
        case "crop-or-pad": self = .cropOrPad(try CropOrPad(from: decoder))
        case "crop-to-foreground": self = .cropToForeground(try CropToForeground(from: decoder))
        case "compose": self = .compose(try container.decode([TransformSpecification].self, forKey: .steps))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container,
                debugDescription: "unknown transform type '\(type)'; known types: window, resample, nnunet-resample, normalize, orient, crop-or-pad, crop-to-foreground, compose")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .window(let window): try container.encode("window", forKey: .type); try window.encode(to: encoder)
        case .resample(let resample): try container.encode("resample", forKey: .type); try resample.encode(to: encoder)
        case .nnUNetResample(let resample):
            try container.encode("nnunet-resample", forKey: .type)
            try resample.encode(to: encoder)
        case .normalize(let normalize):
            try container.encode("normalize", forKey: .type)
            try normalize.encode(to: encoder)
        case .orient(let orient): try container.encode("orient", forKey: .type); try orient.encode(to: encoder)
        case .cropOrPad(let crop): try container.encode("crop-or-pad", forKey: .type); try crop.encode(to: encoder)
        case .cropToForeground(let crop):
            try container.encode("crop-to-foreground", forKey: .type)
            try crop.encode(to: encoder)
        case .compose(let steps):
            try container.encode("compose", forKey: .type)
            try container.encode(steps, forKey: .steps)
        }
    }

    /// Canonical JSON: keys sorted, no whitespace. The same specification always gives the same bytes.
    public var canonicalJSON: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value type built only from numbers, strings and enums cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// A stable key for reproducibility: SHA-256 of the canonical JSON, hex. Outputs record it, and a resumed run
    /// skips only work done with the same key.
    public var key: String {
        SHA256.hash(data: canonicalJSON).map { String(format: "%02x", $0) }.joined()
    }
}
