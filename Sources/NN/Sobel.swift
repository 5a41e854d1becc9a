/// The fixed Sobel stage of DeepCluster (`models/alexnet.py`): for RGB input a 1×1 conv with weights
/// 1/3 (the mean of the normalised channels), then 3×3 Sobel-x and Sobel-y, pad 1, bias 0, not trained.
/// Grey input skips the first conv. Names follow the reference's `sobel.0` / `sobel.1`.
public enum Sobel {
    public static let kernels: [Float] = [1, 0, -1, 2, 0, -2, 1, 0, -1,   // Sobel-x
                                          1, 2, 1, 0, 0, 0, -1, -2, -1]  // Sobel-y

    public static func layers(inputChannels: Int) -> [Layer] {
        var out: [Layer] = []
        if inputChannels == 3 {
            out.append(Conv2d(name: "sobel.0", in: 3, out: 1, kernel: 1, fixedWeights: [1 / 3, 1 / 3, 1 / 3]))
        }
        out.append(Conv2d(name: "sobel.1", in: 1, out: 2, kernel: 3, padding: 1, fixedWeights: kernels))
        return out
    }
}
