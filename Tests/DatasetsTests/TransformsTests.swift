import Datasets
import Tensor
import Testing

@Suite struct TransformsTests {
    let set = ImageSet(pixels: (0..<(6 * 28 * 28)).map { UInt8($0 % 256) }, count: 6, channels: 1, height: 28, width: 28, labels: nil)

    @Test func clusteringPassOnlyNormalises() throws {
        let t = Tensor(shape: [0])
        try Transforms.fashionMNIST.batch(set, indices: [2, 4], augment: false, seed: 1, epoch: 0, into: t)
        #expect(t.shape == [1, 2, 28, 28])
        let v = Float(set.pixels[4 * 784 + 5]) / 255
        #expect(abs(t[784 + 5] - (v - 0.2860) / 0.3530) < 1e-6)
    }

    @Test func augmentationDependsOnImageAndEpochOnly() throws {
        let a = Tensor(shape: [0]), b = Tensor(shape: [0]), c = Tensor(shape: [0])
        try Transforms.fashionMNIST.batch(set, indices: [1, 3, 5], augment: true, seed: 9, epoch: 2, into: a)
        try Transforms.fashionMNIST.batch(set, indices: [3], augment: true, seed: 9, epoch: 2, into: b)
        #expect(Array(a.array[784..<1568]) == b.array)   // same image, other batch: same crop and flip
        try Transforms.fashionMNIST.batch(set, indices: [1, 3, 5], augment: true, seed: 9, epoch: 3, into: c)
        #expect(a.array != c.array)
        // Padding is black before normalisation: every value is a normalised pixel.
        let black = (0 - 0.2860) / 0.3530 as Float
        #expect(a.array.allSatisfy { $0 >= black - 1e-6 })
    }
}
