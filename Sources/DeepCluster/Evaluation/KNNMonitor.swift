import Clustering
import Collective
import Datasets
import NN
import Tensor

/// `--knn-every N`: a weighted k-NN classifier (`KNNClassifier`, k = 200, T = 0.07) on the network's
/// features every N epochs, the training images as the bank and the test split as queries — or, for
/// data without one, a seeded 10% held out of the bank. Labels are used for this report only.
public struct KNNMonitor {
    public let bank: any ImageSource
    public let queries: any ImageSource
    /// What the queries are, for the log.
    public let description: String

    public init(images: any ImageSource, recipe: Recipe, channels: Int, seed: UInt64) throws {
        guard images.labels != nil else {
            throw TrainingError.invalidValue(field: "knnEvery", "needs labels (--labels, class folders, .cls members); \(images.kind) has none")
        }
        if DatasetLoader.hasTestSplit(data: recipe.data, format: recipe.format) {
            let test = try DatasetLoader.load(data: recipe.data, labels: nil, format: recipe.format, train: false, channels: channels)
            bank = images
            queries = test.limited(to: 10_000)
            description = "\(queries.count) images of the test split"
        } else {
            let split = ImageSubset.holdOut(count: images.count, fraction: 0.1, seed: seed)
            bank = ImageSubset(images, indices: split.train)
            queries = ImageSubset(images, indices: split.heldOut)
            description = "\(queries.count) images held out of the bank (10%, seed \(seed))"
        }
        guard queries.labels != nil else { throw TrainingError.invalidValue(field: "knnEvery", "needs labels for the test split too") }
    }

    /// Top-1 accuracy of the model's `representation` (every rank calls it; the same value on each).
    /// With `epoch`, a stop request is polled after every batch of both extractions (`StopPoll`, phase
    /// "knn"): the monitor then throws `StopRequested` and the run stops at the epoch's end.
    public func top1(model: Model, transforms: Transforms, representation: Representation, batchSize: Int, workers: Int,
                     communicator comm: Communicator, epoch: Int? = nil) throws -> Double {
        guard let (at, width) = model.layer(for: representation) else { return .nan }
        let b = Shard.range(count: bank.count, rank: comm.rank, size: comm.size)
        let q = Shard.range(count: queries.count, rank: comm.rank, size: comm.size)
        func poll(_ count: Int) -> StopPoll? {
            epoch.map { StopPoll.perChunk("knn", unit: "batch", count: count, chunk: batchSize, epoch: $0, communicator: comm) }
        }
        let x = try FeatureExtractor.extract(model, images: bank, range: b, batchSize: batchSize, workers: workers, transforms: transforms,
                                             through: at, dimension: width, stop: poll(bank.count))
        let y = try FeatureExtractor.extract(model, images: queries, range: q, batchSize: batchSize, workers: workers, transforms: transforms,
                                             through: at, dimension: width, stop: poll(queries.count))
        return try KNNClassifier.top1(bank: x, bankLabels: Array(bank.labels![b]), queries: y, queryLabels: Array(queries.labels![q]),
                                      dimension: width, communicator: comm)
    }
}
