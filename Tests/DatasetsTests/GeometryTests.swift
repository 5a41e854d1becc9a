import Datasets
import Foundation
import Tensor
import Testing

@Suite struct GeometryTests {
    let source = ImageFixture.ints((ImageFixture.json["source"] as! [String: Any])["pixels"]).map { UInt8($0) }

    func sample(_ box: SampleBox, _ oh: Int, _ ow: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 2 * oh * ow)
        source.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { box.sample(s.baseAddress!, channels: 2, height: 11, width: 13, into: $0.baseAddress!, outHeight: oh, outWidth: ow) }
        }
        return out
    }

    @Test func bilinearResizeMatchesTorchInterpolate() {
        for case let r as [String: Any] in ImageFixture.json["resize"] as! [Any] {
            let size = ImageFixture.ints(r["size"]), want = ImageFixture.floats(r["pixels"])
            let scaled = SampleBox(offsetY: 0, offsetX: 0, scaleY: 11 / Double(size[0]), scaleX: 13 / Double(size[1]))
            let got = sample(scaled, size[0], size[1])
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-3, "\(size): \(worst)")
        }
    }

    @Test func resizeCenterCropMatchesTorchvision() {
        for case let r as [String: Any] in ImageFixture.json["resize_center_crop"] as! [Any] {
            let resize = r["resize"] as! Int, size = r["size"] as! Int, want = ImageFixture.floats(r["pixels"])
            let got = sample(.resizeCenterCrop(height: 11, width: 13, resize: resize, size: size), size, size)
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-3, "Resize(\(resize)) + CenterCrop(\(size)): \(worst)")
        }
    }

    @Test func randomResizedCropStaysInsideWithinScaleAndRatio() {
        var inRange = 0
        for i in 0..<2000 {
            var rng = RandomGenerator(seed: 3, purpose: .augmentation, 0, i)
            let h = 20 + i % 50, w = 30 + (i * 7) % 40
            let c = SampleBox.randomResizedCrop(height: h, width: w, scale: 0.08...1, ratio: 0.75...(4.0 / 3), rng: &rng)
            #expect(c.top >= 0 && c.left >= 0 && c.top + c.height <= h && c.left + c.width <= w && c.height > 0 && c.width > 0)
            let area = Double(c.height * c.width) / Double(h * w), ratio = Double(c.width) / Double(c.height)
            // Rounding a crop to whole pixels moves its area and ratio a little.
            if area > 0.06 && area <= 1 && ratio > 0.6 && ratio < 1.6 { inRange += 1 }
        }
        #expect(inRange == 2000)
    }

    @Test func transformsResizeFolderImagesAndAugmentReproducibly() throws {
        let f = try ImageFolder(ImageFixture.folder)
        let t = Transforms(mean: [0.5], std: [0.25], size: 16, resize: 18, augmentation: .torchvisionResizedCrop)
        let a = Tensor(shape: [0]), b = Tensor(shape: [0])
        try t.batch(f, indices: [0, 3, 4], augment: true, seed: 1, epoch: 2, into: a)
        try t.batch(f, indices: [3], augment: true, seed: 1, epoch: 2, into: b)
        #expect(a.shape == [1, 3, 16, 16] && Array(a.array[256..<512]) == b.array)
        try t.batch(f, indices: [0, 3, 4], augment: false, seed: 1, epoch: 2, into: a)
        #expect(a.array.allSatisfy { $0 >= -2 - 1e-5 && $0 <= 2.0 + 1e-5 })
        // Without resize, images of the wrong size are refused with the file and index.
        let strict = Transforms(mean: [0.5], std: [0.25], size: 16)
        #expect { try strict.batch(f, indices: [1], augment: false, seed: 0, epoch: 0, into: a) } throws: { e in
            "\(e)".contains("b.jpg (image 1): expected 16×16, got 20×24")
        }
    }
}
