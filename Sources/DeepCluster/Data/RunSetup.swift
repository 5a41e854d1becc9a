import Datasets
import NN

/// What a run is built from before any rank talks to another: the images (all of them, or the
/// first --limit), their transforms, and the model of the recipe's architecture and head, with
/// the checks that need the data (enough images for k clusters, a PCA no wider than the features).
struct RunSetup {
    let images: any ImageSource
    let transforms: Transforms
    let model: Model

    init(config: TrainingConfig) throws {
        let arch = try config.architecture()
        var set = try DatasetLoader.load(data: config.data, labels: config.labels, format: config.format, channels: arch.inputChannels)
        if let l = config.limit { set = set.limited(to: l) }
        images = set
        transforms = try DatasetLoader.transforms(for: set, config: config)
        let k = config.k(arch)
        guard set.count >= k else {
            throw TrainingError.invalidConfiguration("\(set.count) images cannot form \(k) clusters; lower --clusters or raise --limit")
        }
        model = Model(architecture: arch, head: config.head(arch), seed: config.seed)
        guard config.isV2 || config.pcaDim(arch) <= model.featureDimension else {
            throw TrainingError.invalidConfiguration("--pca-dim \(config.pcaDim(arch)) exceeds the feature dimension \(model.featureDimension)")
        }
    }
}
