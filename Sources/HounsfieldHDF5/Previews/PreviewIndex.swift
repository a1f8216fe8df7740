import Foundation

/// `index.html`: every preview of an output folder on one page, with key, shape, spacing and warnings, and a filter
/// box, so a person can scan a thousand volumes by eye.
enum PreviewIndex {
    static func write(for folder: OutputFolder) throws(ShardError) {
        var seen = Set<String>()
        let entries = folder.manifestEntries().entries.filter { $0.status == "ok" && $0.preview != nil && seen.insert($0.key).inserted }
            .sorted { $0.key < $1.key }
        try Durability.replace(folder.url.appendingPathComponent("index.html").path, with: Array(html(entries).utf8))
    }

    static func html(_ entries: [ManifestEntry]) -> String {
        let warned = entries.filter { !$0.warnings.isEmpty }.count
        var page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Hounsfield previews (\(entries.count))</title>
        <style>
        body{font:13px system-ui,sans-serif;margin:16px;background:#111;color:#ddd}
        input{font-size:14px;padding:4px;width:24em}
        .grid{display:flex;flex-wrap:wrap;gap:12px;margin-top:12px}
        figure{margin:0;background:#1c1c1c;padding:6px;border-radius:4px;max-width:780px}
        figure.warn{outline:2px solid #c80}
        img{display:block;max-width:100%}
        figcaption{margin-top:4px;font-family:ui-monospace,monospace;font-size:12px}
        .w{color:#fb4}
        </style></head><body>
        <h1>\(entries.count) volumes, \(warned) with warnings</h1>
        <input id="q" placeholder="filter by key, shard or warning" oninput="filter()">
        <div class="grid">

        """
        for entry in entries {
            let spacing = entry.spacing.map { String(format: "%.3g", $0) }.joined(separator: " × ")
            let shape = entry.shape.map(String.init).joined(separator: " × ")
            let warnings = entry.warnings.map { "<div class=\"w\">⚠ \(escape($0))</div>" }.joined()
            page += """
            <figure class="\(entry.warnings.isEmpty ? "" : "warn")" data-text="\(escape(([entry.key, entry.shard] + entry.warnings).joined(separator: " ").lowercased()))">
            <img loading="lazy" src="\(escape(entry.preview ?? ""))" alt="\(escape(entry.key))">
            <figcaption>\(escape(entry.key)) · \(escape(entry.shard))<br>shape (z, y, x) \(shape) · spacing (x, y, z) \(spacing) mm · \(entry.dtype.rawValue)\(warnings)</figcaption>
            </figure>

            """
        }
        page += """
        </div>
        <script>
        function filter(){const q=document.getElementById('q').value.toLowerCase();
        for(const f of document.querySelectorAll('figure')){f.style.display=f.dataset.text.includes(q)?'':'none';}}
        </script>
        </body></html>

        """
        return page
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
