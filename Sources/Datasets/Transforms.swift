import Tensor

/// Turns images of an `ImageSet` into a normalised (C, N, H, W) batch.
///
/// Clustering pass: no augmentation. Training pass (the reference's recipe at 28×28): random crop of
/// the image zero-padded by `padding` (padding is black, before normalisation), horizontal flip with
/// probability 1/2. Random draws come from a generator seeded by (seed, epoch, image index), so a
/// batch's augmentation does not depend on the number of ranks or on which rank draws it.
public struct Transforms: Sendable {
    public var mean: [Float]
    public var std: [Float]
    public var padding: Int = 2

    public init(mean: [Float], std: [Float], padding: Int = 2) {
        self.mean = mean; self.std = std; self.padding = padding
    }

    public static let fashionMNIST = Transforms(mean: [FashionMNIST.mean], std: [FashionMNIST.std])

    /// Fills `out` with images `indices` (global indices into `set`), normalised.
    public func batch(_ set: ImageSet, indices: ArraySlice<Int>, augment: Bool, seed: UInt64, epoch: Int, into out: Tensor) {
        let c = set.channels, h = set.height, w = set.width, n = indices.count
        out.resize([c, n, h, w])
        let scale = std.map { 1 / (255 * $0) }, shift = zip(mean, std).map { -$0 / $1 }
        let hw = h * w, pad = padding
        let idx = Array(indices)
        set.pixels.withUnsafeBufferPointer { px in
            let dst = out.data
            Parallel.forEachChunk(n) { range in
                for b in range {
                    let image = idx[b]
                    var dy = 0, dx = 0, flip = false
                    if augment {
                        var rng = RandomGenerator(seed: seed, purpose: .augmentation, epoch, image)
                        dy = rng.below(2 * pad + 1) - pad
                        dx = rng.below(2 * pad + 1) - pad
                        flip = rng.below(2) == 1
                    }
                    for ch in 0..<c {
                        let src = px.baseAddress! + image * set.imageSize + ch * hw
                        let plane = dst + (ch * n + b) * hw
                        let sc = scale[ch], sh = shift[ch]
                        if !augment {
                            for i in 0..<hw { plane[i] = Float(src[i]) * sc + sh }
                            continue
                        }
                        for y in 0..<h {
                            let sy = y + dy
                            for x in 0..<w {
                                let xx = flip ? w - 1 - x : x
                                let sx = xx + dx
                                let v: UInt8 = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? src[sy * w + sx] : 0
                                plane[y * w + x] = Float(v) * sc + sh
                            }
                        }
                    }
                }
            }
        }
    }
}
