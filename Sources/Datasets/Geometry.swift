import Foundation
import Tensor

/// Where an output pixel reads from in the source image, per axis: source = offset + (out + ½)·scale − ½,
/// sampled bilinearly with edge clamping — torch's `interpolate(mode="bilinear", align_corners=False)`
/// without antialiasing. Scale 1 and an integer offset copy pixels exactly.
public struct SampleBox: Equatable, Sendable {
    public var offsetY: Double, offsetX: Double
    public var scaleY: Double, scaleX: Double

    public init(offsetY: Double, offsetX: Double, scaleY: Double, scaleX: Double) {
        self.offsetY = offsetY; self.offsetX = offsetX; self.scaleY = scaleY; self.scaleX = scaleX
    }

    /// The whole `h`×`w` image at its own size.
    public static func identity() -> SampleBox { SampleBox(offsetY: 0, offsetX: 0, scaleY: 1, scaleX: 1) }

    /// torchvision's Resize(shorter side → `resize`) then CenterCrop(`size`), as one box.
    public static func resizeCenterCrop(height h: Int, width w: Int, resize: Int, size: Int) -> SampleBox {
        let short = min(h, w), long = max(h, w)
        let newLong = Int(Double(resize) * Double(long) / Double(short))
        let (rh, rw) = h <= w ? (resize, newLong) : (newLong, resize)
        let sy = Double(h) / Double(rh), sx = Double(w) / Double(rw)
        let top = Int((Double(rh - size) / 2).rounded()), left = Int((Double(rw - size) / 2).rounded())
        return SampleBox(offsetY: Double(top) * sy, offsetX: Double(left) * sx, scaleY: sy, scaleX: sx)
    }

    /// The crop (top, left, height, width) of the source resized to `size`×`size`.
    public static func crop(top: Int, left: Int, height: Int, width: Int, size: Int) -> SampleBox {
        SampleBox(offsetY: Double(top), offsetX: Double(left), scaleY: Double(height) / Double(size), scaleX: Double(width) / Double(size))
    }

    /// torchvision's RandomResizedCrop.get_params: ten tries at an area fraction in `scale` and a
    /// log-uniform aspect ratio in `ratio`, then the central crop clamped to `ratio`.
    public static func randomResizedCrop(height h: Int, width w: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
                                         rng: inout RandomGenerator) -> (top: Int, left: Int, height: Int, width: Int) {
        let area = Double(h * w)
        let logLo = Foundation.log(ratio.lowerBound), logHi = Foundation.log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * rng.uniform())
            let aspect = Foundation.exp(logLo + (logHi - logLo) * rng.uniform())
            let cw = Int((target * aspect).squareRoot().rounded()), ch = Int((target / aspect).squareRoot().rounded())
            if cw > 0 && cw <= w && ch > 0 && ch <= h {
                let top = rng.below(h - ch + 1), left = rng.below(w - cw + 1)
                return (top, left, ch, cw)
            }
        }
        let inRatio = Double(w) / Double(h)
        var cw = w, ch = h
        if inRatio < ratio.lowerBound { ch = Int((Double(w) / ratio.lowerBound).rounded()) }
        else if inRatio > ratio.upperBound { cw = Int((Double(h) * ratio.upperBound).rounded()) }
        return ((h - ch) / 2, (w - cw) / 2, ch, cw)
    }

    /// Samples `channels` planes of a `h`×`w` byte image into `oh`×`ow` float planes (pixel values).
    public func sample(_ src: UnsafePointer<UInt8>, channels: Int, height h: Int, width w: Int,
                       into dst: UnsafeMutablePointer<Float>, outHeight oh: Int, outWidth ow: Int) {
        if scaleY == 1 && scaleX == 1 && offsetY == offsetY.rounded() && offsetX == offsetX.rounded()
            && Int(offsetY) >= 0 && Int(offsetX) >= 0 && Int(offsetY) + oh <= h && Int(offsetX) + ow <= w {
            let oy = Int(offsetY), ox = Int(offsetX)
            for c in 0..<channels {
                for y in 0..<oh {
                    let s = src + c * h * w + (y + oy) * w + ox, d = dst + (c * oh + y) * ow
                    for x in 0..<ow { d[x] = Float(s[x]) }
                }
            }
            return
        }
        func taps(_ n: Int, _ size: Int, _ offset: Double, _ scale: Double) -> [(Int, Int, Float)] {
            (0..<n).map { i in
                let s = min(max(offset + (Double(i) + 0.5) * scale - 0.5, 0), Double(size - 1))
                let i0 = Int(s)
                return (i0, min(i0 + 1, size - 1), Float(s - Double(i0)))
            }
        }
        let ty = taps(oh, h, offsetY, scaleY), tx = taps(ow, w, offsetX, scaleX)
        for c in 0..<channels {
            let plane = src + c * h * w
            for y in 0..<oh {
                let (y0, y1, fy) = ty[y]
                let r0 = plane + y0 * w, r1 = plane + y1 * w, d = dst + (c * oh + y) * ow
                for x in 0..<ow {
                    let (x0, x1, fx) = tx[x]
                    let top = Float(r0[x0]) + (Float(r0[x1]) - Float(r0[x0])) * fx
                    let bottom = Float(r1[x0]) + (Float(r1[x1]) - Float(r1[x0])) * fx
                    d[x] = top + (bottom - top) * fy
                }
            }
        }
    }
}
