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

@Suite struct PhotometricTests {
    @Test func blurKeepsTheMeanOfAFlatImageAndSpreadsAnImpulse() {
        var flat = [Float](repeating: 100, count: 2 * 9 * 9)
        flat.withUnsafeMutableBufferPointer { Photometric.blur($0.baseAddress!, channels: 2, height: 9, width: 9, sigma: 1.5) }
        #expect(flat.allSatisfy { abs($0 - 100) < 1e-3 })
        var impulse = [Float](repeating: 0, count: 15 * 15)
        impulse[7 * 15 + 7] = 1000
        impulse.withUnsafeMutableBufferPointer { Photometric.blur($0.baseAddress!, channels: 1, height: 15, width: 15, sigma: 1) }
        #expect(abs(impulse.reduce(0, +) - 1000) < 0.5)                 // nothing lost inside the image
        #expect(abs(impulse[7 * 15 + 8] - impulse[8 * 15 + 7]) < 1e-3)   // isotropic
        // A Gaussian of σ 1: the centre holds 1/(2π) of the mass.
        #expect(abs(impulse[7 * 15 + 7] / 1000 - Float(1 / (2 * Double.pi))) < 0.01)
    }

    @Test func jitterStaysInRangeAndDependsOnTheImageSeed() throws {
        let set = ImageSet(pixels: (0..<(4 * 784)).map { UInt8(($0 * 7) % 256) }, count: 4, channels: 1, height: 28, width: 28, labels: nil)
        var t = Transforms.fashionMNIST
        t.brightness = 0.4; t.contrast = 0.4; t.blur = 0.5
        let a = Tensor(shape: [0]), b = Tensor(shape: [0]), plain = Tensor(shape: [0])
        try t.batch(set, indices: [0, 1, 2, 3], augment: true, seed: 5, epoch: 1, into: a)
        try t.batch(set, indices: [2], augment: true, seed: 5, epoch: 1, into: b)
        #expect(Array(a.array[(2 * 784)..<(3 * 784)]) == b.array)
        let lo = (0 - 0.2860) / 0.3530 as Float, hi = (1 - 0.2860) / 0.3530 as Float
        #expect(a.array.allSatisfy { $0 >= lo - 1e-5 && $0 <= hi + 1e-5 })
        try Transforms.fashionMNIST.batch(set, indices: [0, 1, 2, 3], augment: true, seed: 5, epoch: 1, into: plain)
        #expect(plain.array != a.array)
        // The clustering pass is never jittered.
        try t.batch(set, indices: [1], augment: false, seed: 5, epoch: 1, into: a)
        try Transforms.fashionMNIST.batch(set, indices: [1], augment: false, seed: 5, epoch: 1, into: b)
        #expect(a.array == b.array)
    }

    @Test func saturationKeepsGreyPixelsAndGrayscaleEqualisesChannels() {
        // Pixel 0 is grey (equal channels), pixel 1 is red.
        var img: [Float] = [100, 200, 100, 0, 100, 0]   // planes R, G, B of 2 pixels
        var rng = RandomGenerator(seed: 3)
        img.withUnsafeMutableBufferPointer { Photometric.colour($0.baseAddress!, channels: 3, count: 2, saturation: 0.9, grayscale: 0, rng: &rng) }
        #expect(img[0] == 100 && img[2] == 100 && img[4] == 100)
        #expect(img[1] != 200 || img[3] != 0)
        img.withUnsafeMutableBufferPointer { Photometric.colour($0.baseAddress!, channels: 3, count: 2, saturation: 0, grayscale: 1, rng: &rng) }
        #expect(img[1] == img[3] && img[3] == img[5])
        // Grey images draw nothing and stay as they are.
        var grey: [Float] = [10, 20]
        var r2 = RandomGenerator(seed: 3), r3 = RandomGenerator(seed: 3)
        grey.withUnsafeMutableBufferPointer { Photometric.colour($0.baseAddress!, channels: 1, count: 2, saturation: 0.5, grayscale: 1, rng: &r2) }
        #expect(grey == [10, 20] && r2.next() == r3.next())
    }
}
