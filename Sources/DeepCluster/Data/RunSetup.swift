import Datasets
import NN

/// What a run is built from before any rank talks to another: the images (all of them, or the
/// first --limit), their transforms, and the model of the recipe's architecture and head, with
/// the checks that need the data (enough images for k clusters, a PCA no wider than the features).
struct RunSetup {
    let images: any ImageSource
    let transforms: Transforms
    let model: Model

    init(recipe: Recipe) throws {
        let arch = try recipe.architecture()
        var set = try DatasetLoader.load(data: recipe.data, labels: recipe.labels, format: recipe.format, channels: arch.inputChannels)
        if let l = recipe.limit { set = set.limited(to: l) }
        images = set
        transforms = try DatasetLoader.transforms(for: set, recipe: recipe)
        let k = recipe.k(arch)
        guard set.count >= k else {
            throw TrainingError.invalidConfiguration("\(set.count) images cannot form \(k) clusters; lower --clusters or raise --limit")
        }
        model = Model(architecture: arch, head: recipe.head(arch), seed: recipe.seed)
        guard recipe.isV2 || recipe.pcaDim(arch) <= model.featureDimension else {
            throw TrainingError.invalidConfiguration("--pca-dim \(recipe.pcaDim(arch)) exceeds the feature dimension \(model.featureDimension)")
        }
    }
}
