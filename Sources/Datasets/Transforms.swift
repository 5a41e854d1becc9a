import Foundation
import Tensor

/// Turns images of an `ImageSource` into a normalised (C, N, H, W) batch.
///
/// Clustering pass (`augment: false`): images at the output size are used as they are; with `resize`,
/// the shorter side is resized to `resize` and the centre `size`×`size` is cut (torchvision's
/// Resize + CenterCrop, the reference's clustering pipeline).
/// Training pass: `.padCrop` — that same image, zero-padded by `padding` (black, before
/// normalisation) and randomly cropped back (RandomCrop(size, padding)), the reference recipe at 28×28;
/// `.resizedCrop` — torchvision's RandomResizedCrop(size, scale, ratio) of the original image. Then a
/// horizontal flip with probability ½ when `flip`; then, when set, colour jitter (`brightness`,
/// `contrast`) and a Gaussian blur with probability `blur` (see `Photometric`). Every random draw comes from a generator seeded by
/// (seed, epoch, image index), so a batch's augmentation depends neither on the number of ranks nor on
/// which rank or worker thread draws it.
public struct Transforms: Sendable {
    public enum Augmentation: Sendable, Equatable {
        case padCrop(padding: Int)
        case resizedCrop(scale: ClosedRange<Double>, ratio: ClosedRange<Double>)

        public static let torchvisionResizedCrop = Augmentation.resizedCrop(scale: 0.08...1, ratio: (3.0 / 4)...(4.0 / 3))
    }

    public var mean: [Float]
    public var std: [Float]
    /// Output side; nil keeps the images' own (uniform) size.
    public var size: Int?
    /// Resize the shorter side to this before the centre crop; nil: images must already have the output size.
    public var resize: Int?
    public var augmentation: Augmentation
    public var flip: Bool
    /// Training colour jitter: factors drawn from [1 − x, 1 + x]; 0 is off.
    public var brightness: Float = 0
    public var contrast: Float = 0
    /// Colour images: saturation jitter from [1 − x, 1 + x], and RandomGrayscale's probability.
    public var saturation: Float = 0
    public var grayscale = 0.0
    /// Probability of a Gaussian blur with σ uniform in 0.1–2 pixels.
    public var blur = 0.0

    public init(mean: [Float], std: [Float], size: Int? = nil, resize: Int? = nil,
                augmentation: Augmentation = .padCrop(padding: 2), flip: Bool = true) {
        self.mean = mean; self.std = std; self.size = size; self.resize = resize
        self.augmentation = augmentation; self.flip = flip
    }

    public static let fashionMNIST = Transforms(mean: [FashionMNIST.mean], std: [FashionMNIST.std])

    /// The (height, width) of the images this produces from `source`.
    public func outputSize(_ source: any ImageSource) -> (height: Int, width: Int)? {
        if let s = size { return (s, s) }
        return source.uniformSize
    }

    /// Fills `out` with images `indices` of `source`, transformed and normalised. Throws the first
    /// image that cannot be read or has the wrong size. `view` > 0 draws another, independent
    /// augmentation of the same images (multi-crop); view 0 is the single view of DeepCluster.
    public func batch(_ source: any ImageSource, indices: ArraySlice<Int>, augment: Bool, seed: UInt64, epoch: Int,
                      view: Int = 0, into out: Tensor) throws {
        guard let (oh, ow) = outputSize(source) else {
            throw DatasetError.unsupported(path: source.kind, reason: "images differ in size: give an output size (--image-size) and --resize")
        }
        let c = source.channels, n = indices.count, ohw = oh * ow
        out.resize([c, n, oh, ow])
        let scale = std.map { 1 / (255 * $0) }, shift = zip(mean, std).map { -$0 / $1 }
        let idx = Array(indices)
        let dst = out.data
        let failure = FirstError()
        let seed = view == 0 ? seed : seed &+ UInt64(view) &* 0x9E37_79B9_7F4A_7C15
        Parallel.forEachChunk(n) { range in
            var base = [Float](repeating: 0, count: c * ohw)
            for b in range {
                let image = idx[b]
                do {
                    var rng = RandomGenerator(seed: seed, purpose: .augmentation, epoch, image)
                    var dy = 0, dx = 0, mirror = false
                    try source.withImage(image) { src, h, w in
                        let box: SampleBox
                        if augment, case let .resizedCrop(s, r) = augmentation {
                            let crop = SampleBox.randomResizedCrop(height: h, width: w, scale: s, ratio: r, rng: &rng)
                            box = .crop(top: crop.top, left: crop.left, height: crop.height, width: crop.width, size: oh)
                        } else if let r = resize {
                            box = .resizeCenterCrop(height: h, width: w, resize: r, size: oh)
                        } else {
                            guard h == oh && w == ow else {
                                throw DatasetError.sizeMismatch(path: source.location(image), index: image, expected: "\(oh)×\(ow)", got: "\(h)×\(w)")
                            }
                            box = .identity()
                        }
                        base.withUnsafeMutableBufferPointer { box.sample(src, channels: c, height: h, width: w, into: $0.baseAddress!, outHeight: oh, outWidth: ow) }
                    }
                    if augment {
                        if case let .padCrop(pad) = augmentation {
                            dy = rng.below(2 * pad + 1) - pad
                            dx = rng.below(2 * pad + 1) - pad
                        }
                        mirror = flip && rng.below(2) == 1
                        // Drawn after the crop and the flip, so turning these on leaves those draws as they were.
                        if brightness > 0 || contrast > 0 || blur > 0 || saturation > 0 || grayscale > 0 {
                            base.withUnsafeMutableBufferPointer { b in
                                Photometric.jitter(b.baseAddress!, channels: c, count: ohw, brightness: brightness, contrast: contrast, rng: &rng)
                                Photometric.colour(b.baseAddress!, channels: c, count: ohw, saturation: saturation, grayscale: grayscale, rng: &rng)
                                if blur > 0 && rng.uniform() < blur {
                                    Photometric.blur(b.baseAddress!, channels: c, height: oh, width: ow, sigma: Float(0.1 + 1.9 * rng.uniform()))
                                }
                            }
                        }
                    }
                    for ch in 0..<c {
                        let plane = dst + (ch * n + b) * ohw
                        let sc = scale[ch], sh = shift[ch]
                        base.withUnsafeBufferPointer { bp in
                            let src = bp.baseAddress! + ch * ohw
                            if dy == 0 && dx == 0 && !mirror {
                                for i in 0..<ohw { plane[i] = src[i] * sc + sh }
                                return
                            }
                            for y in 0..<oh {
                                let sy = y + dy
                                for x in 0..<ow {
                                    let sx = (mirror ? ow - 1 - x : x) + dx
                                    let v: Float = (sy >= 0 && sy < oh && sx >= 0 && sx < ow) ? src[sy * ow + sx] : 0
                                    plane[y * ow + x] = v * sc + sh
                                }
                            }
                        }
                    }
                } catch {
                    failure.record(error)
                    return
                }
            }
        }
        if let e = failure.error { throw e }
    }
}

/// The first error thrown by any of several threads.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}
