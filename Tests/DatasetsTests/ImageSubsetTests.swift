import Datasets
import Testing

/// A held-out split is disjoint from what is left, covers every image, repeats for a seed, and the
/// subset hands out its base's images and labels in its own order.
@Suite struct ImageSubsetTests {
    @Test func holdOutSplitsEveryImageOnceAndRepeats() {
        for (count, fraction, held) in [(60, 0.2, 12), (7, 0.5, 4), (2, 0.01, 1), (2, 0.99, 1), (1000, 0.25, 250)] {
            let s = ImageSubset.holdOut(count: count, fraction: fraction, seed: 3)
            #expect(s.heldOut.count == held, "\(count) × \(fraction)")
            #expect(Set(s.train).isDisjoint(with: s.heldOut))
            #expect((s.train + s.heldOut).sorted() == Array(0..<count))
            #expect(s.train == s.train.sorted() && s.heldOut == s.heldOut.sorted())
            #expect(ImageSubset.holdOut(count: count, fraction: fraction, seed: 3) == s)
        }
        let a = ImageSubset.holdOut(count: 1000, fraction: 0.2, seed: 1), b = ImageSubset.holdOut(count: 1000, fraction: 0.2, seed: 2)
        #expect(a.heldOut != b.heldOut)
        // Not the first or last images: a random part.
        #expect(a.heldOut != Array(0..<200) && a.heldOut != Array(800..<1000))
    }

    @Test func aSubsetHandsOutItsBasesImagesAndLabels() throws {
        let base = ImageSet(pixels: (0..<5).flatMap { [UInt8]($0 * 10 ..< $0 * 10 + 4) }, count: 5, channels: 1, height: 2, width: 2,
                            labels: [10, 11, 12, 13, 14])
        let subset = ImageSubset(base, indices: [3, 0, 4])
        #expect(subset.count == 3 && subset.labels == [13, 10, 14])
        let first = try subset.withImage(0) { p, h, w in Array(UnsafeBufferPointer(start: p, count: h * w)) }
        #expect(first == [30, 31, 32, 33])
        #expect(subset.limited(to: 2).labels == [13, 10])
    }
}
