import DeepCluster
import Testing

@Suite struct RecommendedPresetTests {
    func recommended(_ count: Int, channels: Int = 1, size: (Int, Int)? = (28, 28), preset: String = "recommended") throws -> Recipe {
        var c = Recipe()
        try TrainingPreset.apply(preset, to: &c)
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

    /// The DeepCluster branch: at 20,000 images it is `--preset fmnist` for 30 epochs (the recipe whose
    /// three seeds README's "DeepCluster at small scale" reports).
    @Test func recommendedV1At20000ImagesIsTheFmnistRecipeFor30Epochs() throws {
        let c = try recommended(20_000, preset: "recommended-v1")
        var fmnist = Recipe()
        try TrainingPreset.apply("fmnist", to: &fmnist)
        fmnist.epochs = 30
        fmnist.clusters = 100
        #expect(c.differences(from: fmnist).isEmpty, "\(c.differences(from: fmnist))")
        #expect(c.method == .deepcluster && c.heads == 1)
    }

    @Test func recommendedV1ScalesItsLengthWithTheDataAndKeepsTheReferencesLearningRate() throws {
        let small = try recommended(1_000, preset: "recommended-v1"), large = try recommended(60_000, preset: "recommended-v1")
        #expect(small.batchSize == 32 && small.learningRate == 0.05 && small.epochs == 134 && small.clusters == 100)
        #expect(large.batchSize == 256 && large.learningRate == 0.05 && large.epochs == 17 && large.clusters == 300)
        // A v2 configuration read from a file becomes DeepCluster with the reference's single head.
        var fromV2 = Recipe()
        try TrainingPreset.apply("fmnist-v2", to: &fromV2)
        try TrainingPreset.apply("recommended-v1", to: &fromV2)
        #expect(fromV2.method == .deepcluster && fromV2.heads == 1 && fromV2.dropout == nil)
        let line = RecommendedPreset.describe(small, for: .init(count: 1_000, channels: 1, size: (height: 28, width: 28)))
        #expect(line.hasPrefix("preset recommended-v1") && line.contains("k = 100") && line.contains("134 epochs"))
    }

    /// DeepCluster's k is at least 25/16 of the PCA dimension it whitens (so its classifier can shape every
    /// whitened direction), within N / 10; v2's prototypes keep their own floor of 30.
    @Test func recommendedV1ClustersCoverTheWhitenedDimensions() throws {
        for n in [2_000, 5_000, 20_000] { #expect(try recommended(n, preset: "recommended-v1").clusters == 100, "\(n) images") }
        #expect(try recommended(500, preset: "recommended-v1").clusters == 50)
        #expect(try recommended(10_000, channels: 3, size: (32, 32), preset: "recommended-v1").clusters == 200)
        #expect(try recommended(50_000, channels: 3, size: nil, preset: "recommended-v1").clusters == 400)
        var explicit = Recipe()
        try TrainingPreset.apply("recommended-v1", to: &explicit)
        explicit.pcaDimension = 32
        RecommendedPreset.adapt(&explicit, to: .init(count: 2_000, channels: 1, size: (height: 28, width: 28)))
        #expect(explicit.clusters == 50)
        #expect(try recommended(5_000).clusters == 30)
    }

    /// DeepCluster's batch leaves an epoch at least 30 steps to fit the top layer drawn anew for it (v2: 16).
    @Test func recommendedV1EpochsTakeThirtySteps() throws {
        let batches = try [1_000, 2_000, 5_000, 10_000, 20_000].map { try recommended($0, preset: "recommended-v1").batchSize }
        #expect(batches == [32, 64, 128, 256, 256])
        #expect(try recommended(5_000).batchSize == 256)
    }
}
