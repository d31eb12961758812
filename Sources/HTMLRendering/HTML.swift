/// Server-rendered HTML for the agent's pages and head office's dashboard: escaping and the shell
/// every page shares (sized for a small touch screen, no JavaScript framework).
public enum HTML {
    /// Text made safe for element content and quoted attribute values.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A whole document: `body` and `script` are already HTML (callers escape what they interpolate).
    public static func document(
        title: String, bodyClass: String, refreshSeconds: Int? = nil, body: String, script: String = ""
    ) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(refreshSeconds.map { "<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? "")
        <title>\(escape(title))</title>
        <style>\(styleSheet)</style>
        </head>
        <body class="\(escape(bodyClass))">
        \(body)
        \(script.isEmpty ? "" : "<script>\n\(script)\n</script>")
        </body>
        </html>
        """
    }

    /// Large type and touch targets of at least 48 px; readable on a 7" screen at arm's length.
    public static let styleSheet = """
        *{box-sizing:border-box}body{margin:0;font:18px/1.4 system-ui,sans-serif;color:#1d2330;background:#f4f5f7}
        main{max-width:900px;margin:0 auto;padding:16px}h1{font-size:1.8em;margin:.3em 0}h2{font-size:1.2em;margin:1.2em 0 .4em}
        .card{background:#fff;border-radius:12px;padding:16px 20px;margin:12px 0;box-shadow:0 1px 3px rgba(0,0,0,.12)}
        table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e5ea}
        .ok{color:#17693a}.bad{color:#a4161a}.muted{color:#667}.figure{font-size:1.6em;font-weight:600}
        .figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
        .kiosk main{text-align:center;padding-top:8vh}.kiosk h1{font-size:2.4em}
        .balance{font-size:3em;font-weight:700;margin:.2em 0}
        .progress{height:22px;background:#e3e5ea;border-radius:11px;overflow:hidden;margin:8px auto;max-width:520px}
        .progress>div{height:100%;background:#2d6cdf;width:0}
        .answers{display:flex;gap:12px;justify-content:center;flex-wrap:wrap}
        .answers button{min-width:64px;min-height:64px;font-size:1.6em;border-radius:32px;border:2px solid #2d6cdf;background:#fff}
        .answers button:active{background:#2d6cdf;color:#fff}
        svg text{font:13px system-ui,sans-serif;fill:#1d2330}svg .bar{fill:#2d6cdf}svg .bar.bad{fill:#a4161a}
        svg .axis{stroke:#c5c9d2}
        """
}
