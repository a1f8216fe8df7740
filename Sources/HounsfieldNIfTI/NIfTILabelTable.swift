import Foundation

/// Label names stored inside a NIfTI file: the Caret/GIFTI-style XML `<LabelTable>` that TotalSegmentator (ecode
/// 0), Connectome Workbench (CIFTI, ecode 30) and FreeSurfer write, with one `<Label Key="N">name</Label>` per class.
///
/// A small scanner rather than an XML parser: the table is flat, and Foundation's XML parser is not in the core
/// Linux toolchain. Names may be CDATA or text with the five predefined XML entities.
public enum NIfTILabelTable {
    /// The names of every extension's label table (later extensions win on a repeated key); empty when none has one.
    public static func names(in extensions: [NIfTIExtension]) -> [Int: String] {
        var names: [Int: String] = [:]
        for ext in extensions where ext.content.count > 0 {
            names.merge(parse(ext.text)) { _, new in new }
        }
        return names
    }

    /// The `Key` → name pairs of the `<Label>` elements in `xml` (empty when there are none).
    public static func parse(_ xml: String) -> [Int: String] {
        guard xml.contains("<LabelTable") else { return [:] }
        var names: [Int: String] = [:]
        var rest = Substring(xml)
        while let open = rest.range(of: "<Label ") ?? rest.range(of: "<Label\t") ?? rest.range(of: "<Label\n") {
            guard let tagEnd = rest[open.upperBound...].firstIndex(of: ">"),
                  let close = rest[tagEnd...].range(of: "</Label>")
            else { break }
            let attributes = rest[open.upperBound..<tagEnd]
            if let key = attribute("Key", in: attributes).flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                names[key] = text(rest[rest.index(after: tagEnd)..<close.lowerBound])
            }
            rest = rest[close.upperBound...]
        }
        return names
    }

    private static func attribute(_ name: String, in attributes: Substring) -> String? {
        for quote in ["\"", "'"] {
            guard let start = attributes.range(of: "\(name)=\(quote)"),
                  let end = attributes[start.upperBound...].firstIndex(of: Character(quote))
            else { continue }
            return String(attributes[start.upperBound..<end])
        }
        return nil
    }

    private static func text(_ body: Substring) -> String {
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("<![CDATA["), trimmed.hasSuffix("]]>") {
            return String(trimmed.dropFirst(9).dropLast(3))
        }
        return trimmed.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
