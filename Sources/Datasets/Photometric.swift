import Foundation
import Tensor

/// Colour jitter and Gaussian blur on an image held as C planes of `hw` floats in pixel units (0–255),
/// as torchvision's ColorJitter (brightness, then contrast: blended with the image's mean grey) and
/// GaussianBlur (σ drawn uniformly, kernel 2⌈3σ⌉+1, edges clamped rather than reflected).
public enum Photometric {
    public static func jitter(_ p: UnsafeMutablePointer<Float>, channels c: Int, count hw: Int,
                              brightness: Float, contrast: Float, rng: inout RandomGenerator) {
        if brightness > 0 {
            let f = 1 - brightness + 2 * brightness * rng.uniformFloat()
            for i in 0..<(c * hw) { p[i] = min(max(p[i] * f, 0), 255) }
        }
        if contrast > 0 {
            let f = 1 - contrast + 2 * contrast * rng.uniformFloat()
            var mean: Float = 0
            if c == 3 {
                for i in 0..<hw { mean += 0.299 * p[i] + 0.587 * p[hw + i] + 0.114 * p[2 * hw + i] }
            } else {
                for i in 0..<(c * hw) { mean += p[i] }
                mean /= Float(c)
            }
            mean /= Float(hw)
            for i in 0..<(c * hw) { p[i] = min(max(mean + (p[i] - mean) * f, 0), 255) }
        }
    }

    /// Colour images only (a grey image has no saturation): torchvision's saturation jitter — each pixel
    /// blended with its own luma by a factor from [1 − s, 1 + s] — then, with probability `grayscale`,
    /// RandomGrayscale (every channel set to the luma). Nothing is drawn for grey images.
    public static func colour(_ p: UnsafeMutablePointer<Float>, channels c: Int, count hw: Int,
                              saturation: Float, grayscale: Double, rng: inout RandomGenerator) {
        guard c == 3 else { return }
        @inline(__always) func luma(_ i: Int) -> Float { 0.299 * p[i] + 0.587 * p[hw + i] + 0.114 * p[2 * hw + i] }
        if saturation > 0 {
            let f = 1 - saturation + 2 * saturation * rng.uniformFloat()
            for i in 0..<hw {
                let g = luma(i)
                for ch in 0..<3 { p[ch * hw + i] = min(max(g + (p[ch * hw + i] - g) * f, 0), 255) }
            }
        }
        if grayscale > 0 && rng.uniform() < grayscale {
            for i in 0..<hw { let g = luma(i); p[i] = g; p[hw + i] = g; p[2 * hw + i] = g }
        }
    }

    /// A separable Gaussian blur of every plane, σ in pixels.
    public static func blur(_ p: UnsafeMutablePointer<Float>, channels c: Int, height h: Int, width w: Int, sigma: Float) {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * Double(sigma * sigma)))) }
        let total = kernel.reduce(0, +)
        for i in kernel.indices { kernel[i] /= total }
        var row = [Float](repeating: 0, count: max(h, w))
        for ch in 0..<c {
            let plane = p + ch * h * w
            for y in 0..<h {   // horizontal
                for x in 0..<w {
                    var s: Float = 0
                    for k in -radius...radius { s += kernel[k + radius] * plane[y * w + min(max(x + k, 0), w - 1)] }
                    row[x] = s
                }
                for x in 0..<w { plane[y * w + x] = row[x] }
            }
            for x in 0..<w {   // vertical
                for y in 0..<h {
                    var s: Float = 0
                    for k in -radius...radius { s += kernel[k + radius] * plane[min(max(y + k, 0), h - 1) * w + x] }
                    row[y] = s
                }
                for y in 0..<h { plane[y * w + x] = row[y] }
            }
        }
    }
}
