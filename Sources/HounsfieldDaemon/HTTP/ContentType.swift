/// A `Content-Type` value taken apart: the type and subtype (lowercased) and the parameters (names lowercased,
/// quoted values unquoted). Written here because a multipart body needs two parameters (`type` and `boundary`), and
/// a boundary may be quoted and is case-sensitive.
struct ContentType: Equatable {
    /// `type/subtype`, lowercased.
    var essence: String
    /// The parameters by lowercased name.
    var parameters: [String: String]

    /// Parses `value`; nil when it has no `type/subtype`.
    init?(_ value: String) {
        var rest = Substring(value)
        let essenceEnd = rest.firstIndex(of: ";") ?? rest.endIndex
        let essence = rest[..<essenceEnd].trimmingSpaces.lowercased()
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.essence = essence
        self.parameters = [:]
        rest = rest[essenceEnd...]
        while rest.first == ";" {
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else {
                rest = rest[(rest.firstIndex(of: ";") ?? rest.endIndex)...]
                continue
            }
            let name = rest[..<equals].trimmingSpaces.lowercased()
            rest = rest[rest.index(after: equals)...]
            var parsed = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let character = rest.first, character != "\"" {
                    if character == "\\", rest.count > 1 { rest = rest.dropFirst() }
                    parsed.append(rest.first!)
                    rest = rest.dropFirst()
                }
                rest = rest.dropFirst()  // the closing quote
                rest = rest[(rest.firstIndex(of: ";") ?? rest.endIndex)...]
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                parsed = String(rest[..<end].trimmingSpaces)
                rest = rest[end...]
            }
            if !name.isEmpty { parameters[name] = parsed }
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
