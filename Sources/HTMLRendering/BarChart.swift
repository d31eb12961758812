/// Bar charts as inline SVG, rendered on the server: no script, readable without colour (every bar
/// carries its value as text), with a `<title>` for screen readers.
public enum BarChart {
    /// One bar: its label, its value (≥ 0; it sets the length), the text written beside it, and
    /// whether it shows a problem (drawn red).
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        public var text: String
        public var isProblem: Bool

        public init(label: String, value: Double, text: String, isProblem: Bool = false) {
            self.label = label
            self.value = value
            self.text = text
            self.isProblem = isProblem
        }
    }

    /// Horizontal bars, one row each, longest value spanning the chart. At most `maximumBars` rows.
    public static func horizontal(
        id: String, title: String, bars: [Bar], widthPixels: Int = 640, maximumBars: Int = 40
    ) -> String {
        let shown = Array(bars.prefix(maximumBars))
        let rowHeight = 26
        let labelWidth = 170
        let textWidth = 130
        let height = max(1, shown.count) * rowHeight + 8
        let largest = max(shown.map(\.value).max() ?? 0, 1e-9)
        let barSpace = Double(widthPixels - labelWidth - textWidth)
        var svg =
            "<svg id=\"\(HTML.escape(id))\" role=\"img\" viewBox=\"0 0 \(widthPixels) \(height)\" width=\"100%\" "
            + "xmlns=\"http://www.w3.org/2000/svg\"><title>\(HTML.escape(title))</title>"
        for (index, bar) in shown.enumerated() {
            let y = 4 + index * rowHeight
            let length = max(2, max(0, bar.value) / largest * barSpace)  // a zero still shows where the bar starts
            svg +=
                "<g class=\"row\" data-label=\"\(HTML.escape(bar.label))\">"
                + "<text x=\"0\" y=\"\(y + 17)\">\(HTML.escape(String(bar.label.prefix(24))))</text>"
                + "<rect class=\"bar\(bar.isProblem ? " bad" : "")\" x=\"\(labelWidth)\" y=\"\(y + 3)\" "
                + "width=\"\(Self.format(length))\" height=\"\(rowHeight - 8)\" rx=\"3\"/>"
                + "<text x=\"\(labelWidth + Int(length.rounded()) + 6)\" y=\"\(y + 17)\">\(HTML.escape(bar.text))</text></g>"
        }
        return svg + "</svg>"
    }

    /// Vertical columns over a sequence (e.g. days), labels under each column.
    public static func columns(
        id: String, title: String, bars: [Bar], widthPixels: Int = 640, heightPixels: Int = 200
    ) -> String {
        let count = max(1, bars.count)
        let top = 20
        let bottom = 24
        let plotHeight = Double(heightPixels - top - bottom)
        let slot = Double(widthPixels) / Double(count)
        let largest = max(bars.map(\.value).max() ?? 0, 1e-9)
        var svg =
            "<svg id=\"\(HTML.escape(id))\" role=\"img\" viewBox=\"0 0 \(widthPixels) \(heightPixels)\" width=\"100%\" "
            + "xmlns=\"http://www.w3.org/2000/svg\"><title>\(HTML.escape(title))</title>"
            + "<line class=\"axis\" x1=\"0\" x2=\"\(widthPixels)\" y1=\"\(heightPixels - bottom)\" y2=\"\(heightPixels - bottom)\"/>"
        for (index, bar) in bars.enumerated() {
            let length = max(0, bar.value) / largest * plotHeight
            let x = Double(index) * slot + slot * 0.15
            let y = Double(heightPixels - bottom) - length
            svg +=
                "<g class=\"column\" data-label=\"\(HTML.escape(bar.label))\">"
                + "<rect class=\"bar\(bar.isProblem ? " bad" : "")\" x=\"\(Self.format(x))\" y=\"\(Self.format(y))\" "
                + "width=\"\(Self.format(slot * 0.7))\" height=\"\(Self.format(length))\" rx=\"2\"/>"
                + "<text x=\"\(Self.format(x))\" y=\"\(Self.format(max(Double(top) - 6, y - 4)))\">\(HTML.escape(bar.text))</text>"
                + "<text x=\"\(Self.format(x))\" y=\"\(heightPixels - 6)\">\(HTML.escape(bar.label))</text></g>"
        }
        return svg + "</svg>"
    }

    /// One decimal place: enough for pixels, short in the page.
    static func format(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }
}
