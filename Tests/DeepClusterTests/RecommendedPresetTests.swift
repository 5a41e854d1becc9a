import DeepCluster
import Testing

@Suite struct RecommendedPresetTests {
    func recommended(_ count: Int, channels: Int = 1, size: (Int, Int)? = (28, 28)) throws -> Recipe {
        var c = Recipe()
        try TrainingPreset.apply("recommended", to: &c)
        RecommendedPreset.adapt(&c, to: .init(count: count, channels: channels, size: size.map { (height: $0.0, width: $0.1) }))
        try c.validate()
        return c
    }

    @Test func atFashionMNISTSizeItIsTheFmnistV2RecipeWith300PrototypesFor32Epochs() throws {
        let c = try recommended(60_000)
        var v2 = Recipe()
        try TrainingPreset.apply("fmnist-v2", to: &v2)
        v2.epochs = 32
        v2.clusters = 300
        #expect(c.differences(from: v2).isEmpty, "\(c.differences(from: v2))")
    }

    @Test func smallSetsGetSmallerBatchesScaledLearningRatesAndMoreEpochs() throws {
        let small = try recommended(1_000), mid = try recommended(5_000)
        #expect(small.batchSize == 32 && small.learningRate == 0.15 * 32 / 256 && small.epochs == 200 && small.clusters == 30)
        #expect(mid.batchSize == 256 && mid.epochs == 111 && mid.clusters == 30)
        #expect(try recommended(20_000).clusters == 100)
        // Every set still takes at least 16 steps an epoch, and a tiny one is not over-clustered past N / 10.
        for n in [200, 1_000, 2_000, 5_000, 60_000] {
            let batch = try recommended(n).batchSize
            #expect(n / batch >= 16 || batch == 32)
        }
        let tiny = try recommended(200)
        #expect(tiny.clusters == 20)
    }

    @Test func largeSetsOverClusterMoreAndColourSetsGetColourAugmentation() throws {
        let imagenet = try recommended(1_281_167, channels: 3, size: nil)
        #expect(imagenet.arch == "alexnet" && imagenet.clusters == 3000 && imagenet.epochs == 32)
        #expect(imagenet.saturation == 0.4 && imagenet.grayscale == 0.2)
        let cifar = try recommended(50_000, channels: 3, size: (32, 32))
        #expect(cifar.arch == "cifar-alexnet" && cifar.clusters == 250 && cifar.epochs == 35)
        let line = RecommendedPreset.describe(cifar, for: .init(count: 50_000, channels: 3, size: (height: 32, width: 32)))
        #expect(line.contains("cifar-alexnet") && line.contains("250 prototypes") && line.contains("35 epochs"))
    }
}
