/// Sizes written as people write them: `2GB`, `512MiB`, `1.5G`, `1000000`.
public enum ByteSize {
    /// Decimal (KB, MB, GB, TB) and binary (KiB, MiB, GiB, TiB) units; a bare K/M/G/T is binary.
    public static func parse(_ text: String) throws(ConfigurationError) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let factors: [String: Double] = [
            "": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
            "k": 1024, "m": 1_048_576, "g": 1_073_741_824, "t": 1_099_511_627_776,
            "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824, "tib": 1_099_511_627_776,
        ]
        guard let value = Double(digits), let factor = factors[unit], value >= 0 else {
            throw .invalid(path: "size", reason: "'\(text)' is not a size such as 2GB, 512MiB or 1000000")
        }
        // Double(Int.max) rounds up to 2^63, which Int() cannot hold: compare below it.
        guard value * factor < 9.0e18 else {
            throw .invalid(path: "size", reason: "'\(text)' is too large (at most about 9 EB)")
        }
        return Int(value * factor)
    }

    /// `1.23 GB` style, for people.
    public static func format(_ bytes: Int) -> String {
        let value = Double(bytes)
        for (unit, factor) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)] where value >= factor {
            return String(format: "%.2f %@", value / factor, unit)
        }
        return "\(bytes) B"
    }
}

import Foundation
