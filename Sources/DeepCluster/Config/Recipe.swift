/// The part of a configuration that decides what a run computes — everything but where its files go,
/// what it prints and how the work is spread — so that `--resume` can refuse flags that would change
/// it half way (another --seed, --lr or --data of the same size resumes silently otherwise).
extension TrainingConfig {
    /// (flag, value) of every recipe field. `--epochs` counts only under the cosine schedule, whose
    /// learning rate at every step depends on it; a constant schedule may be extended freely.
    public var recipe: [(flag: String, value: String)] {
        func text<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "default" }
        var fields: [(String, String)] = [
            ("--data", text(data)), ("--labels", text(labels)), ("--format", format), ("--limit", text(limit)),
            ("--arch", arch), ("--method", method), ("--input", input), ("--dropout", text(dropout)),
            ("--heads", "\(heads)"), ("--temperature", "\(temperature)"), ("--hidden-dim", text(hiddenDimension)),
            ("--embedding-dim", "\(embeddingDimension)"), ("--crops", text(crops)),
            ("--clusters", text(clusters)), ("--pca-dim", text(pcaDimension)), ("--kmeans-iters", "\(kmeansIterations)"),
            ("--cluster-feature", clusterFeature), ("--pca-epsilon", "\(pcaEpsilon)"),
            ("--batch-size", "\(batchSize)"), ("--lr", "\(learningRate)"), ("--lr-schedule", lrSchedule),
            ("--warmup-epochs", "\(warmupEpochs)"), ("--final-lr", "\(finalLearningRate)"),
            ("--momentum", "\(momentum)"), ("--weight-decay", "\(weightDecay)"), ("--seed", "\(seed)"),
            ("--resize", text(resize)), ("--augmentation", augmentation), ("--crop-scale", "\(cropScale)"),
            ("--brightness", "\(brightness)"), ("--contrast", "\(contrast)"), ("--saturation", "\(saturation)"),
            ("--grayscale", "\(grayscale)"), ("--blur", "\(blur)"),
        ]
        if lrSchedule == "cosine" { fields.append(("--epochs", "\(epochs)")) }
        return fields.map { (flag: $0.0, value: $0.1) }
    }

    /// "--lr 0.05 → 0.1" for each recipe field in which this configuration differs from `saved`.
    public func recipeDifferences(from saved: TrainingConfig) -> [String] {
        let old = Dictionary(saved.recipe.map { ($0.flag, $0.value) }, uniquingKeysWith: { a, _ in a })
        return recipe.compactMap { f in
            guard let was = old[f.flag], was != f.value else { return nil }
            return "\(f.flag) \(was) → \(f.value)"
        }
    }
}
