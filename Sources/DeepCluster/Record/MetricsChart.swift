import Foundation

/// The per-epoch curves as one SVG — loss, NMI to the previous epoch, NMI to the labels, images/s —
/// rewritten beside the metrics file after every epoch, so a user can look instead of read.
public enum MetricsChart {
    public static func svg(_ records: [EpochRecord]) -> String {
        let panels: [(String, (EpochRecord) -> Double?)] = [
            ("loss", { $0.loss }), ("NMI(t, t−1)", { $0.nmi_prev }),
            ("NMI(labels)", { $0.nmi_labels }), ("training images/s", { $0.images_per_s }),
        ]
        let w = 320.0, h = 200.0, pad = 40.0
        var out = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(2 * w))" height="\#(Int(2 * h))" font-family="sans-serif" font-size="11">"#
        out += #"<rect width="100%" height="100%" fill="white"/>"#
        for (i, (title, value)) in panels.enumerated() {
            let ox = Double(i % 2) * w, oy = Double(i / 2) * h
            let pts = records.compactMap { r in value(r).map { (Double(r.epoch), $0) } }.filter { $0.1.isFinite }
            out += #"<g transform="translate(\#(ox),\#(oy))">"#
            out += #"<text x="\#(w / 2)" y="16" text-anchor="middle" font-weight="bold">\#(title)</text>"#
            out += #"<rect x="\#(pad)" y="24" width="\#(w - pad - 12)" height="\#(h - 24 - pad + 10)" fill="none" stroke="gray"/>"#
            if let lo = pts.map(\.1).min(), let hi = pts.map(\.1).max(), let e0 = pts.first?.0, let e1 = pts.last?.0 {
                let span = max(hi - lo, 1e-9), espan = max(e1 - e0, 1)
                func x(_ e: Double) -> Double { pad + (e - e0) / espan * (w - pad - 12) }
                func y(_ v: Double) -> Double { 24 + (1 - (v - lo) / span) * (h - 24 - pad + 10) }
                let path = pts.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ")
                out += #"<polyline fill="none" stroke="steelblue" stroke-width="2" points="\#(path)"/>"#
                for p in pts { out += String(format: #"<circle cx="%.1f" cy="%.1f" r="2.5" fill="steelblue"/>"#, x(p.0), y(p.1)) }
                out += String(format: #"<text x="%.0f" y="30" text-anchor="end">%.3g</text>"#, pad - 3, hi)
                out += String(format: #"<text x="%.0f" y="%.0f" text-anchor="end">%.3g</text>"#, pad - 3, h - pad + 34, lo)
                out += String(format: #"<text x="%.0f" y="%.0f" text-anchor="middle">epoch %.0f … %.0f</text>"#, w / 2, h - 4, e0, e1)
            }
            out += "</g>"
        }
        return out + "</svg>\n"
    }
}
