import DeepCluster
import Testing

@Suite struct TrainingPresetTests {
    @Test func fmnistBundlesTheRecipeAndValidates() throws {
        var c = Recipe()
        c.limit = 600
        try TrainingPreset.apply("fmnist", to: &c)
        #expect(c.input == .raw && c.augmentation == .resizedCrop && c.cropScale == 0.2 && c.brightness == 0.4)
        #expect(c.lrSchedule == .cosine && c.warmupEpochs == 1 && c.epochs == 10 && c.limit == 600)
        try c.validate()
        try TrainingPreset.apply("reference", to: &c)
        #expect(c.input == .sobel && c.lrSchedule == .constant && c.brightness == 0 && c.limit == 600)
        #expect { try TrainingPreset.apply("imagenet-please", to: &c) } throws: { error in
            guard case let .invalidValue(field, message)? = error as? TrainingError else { return false }
            return field == "preset" && message.contains("must be one of")
        }
    }
}
