/// The kernel policy of one Linear layer: OpenBLAS's sgemm in fp32, or oneDNN's bf16 matmul under
/// `--precision bf16` (inputs, weights and output gradients rounded to bf16, fp32 accumulation, fp32 master
/// weights and gradients: PyTorch's autocast on CPU). A product oneDNN refuses falls back to sgemm with one note.
final class LinearKernels {
    let name: String
    /// This layer's backend and precision when they are not the process-wide choice (tests run both).
    var backend: KernelBackend?
    var precision: Precision?
    private var products: [BF16Matmul.Shape: BF16Matmul] = [:]
    private var order: [BF16Matmul.Shape] = []
    private var refused = false
    /// How many products' primitives a layer keeps (forward, ∂x and ∂w, for a batch size or two).
    static let cacheSize = 6

    init(name: String) { self.name = name }

    /// Whether this layer's products run in bf16 on oneDNN.
    var bf16: Bool {
        !refused && (backend ?? KernelBackend.current) == .onednn && (precision ?? KernelBackend.precision) == .bf16
    }

    /// What the last product ran on: "onednn:<implementation>" or "sgemm".
    private(set) var lastKernelName = "sgemm"

    /// Runs C (+)= A·B (+ bias) in bf16; false when oneDNN refused this layer (noted once) and the caller
    /// must compute it in fp32. With `reusing`, B is the product of that shape's B as its last run converted
    /// it (∂x reuses the forward's bf16 weights), when that product is still cached; else `b` is converted.
    func run(_ shape: BF16Matmul.Shape, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
             c: UnsafeMutablePointer<Float>, reusing source: BF16Matmul.Shape? = nil) -> Bool {
        do {
            let product: BF16Matmul
            if let p = products[shape] {
                product = p
            } else {
                product = try BF16Matmul(shape)
                if order.count >= Self.cacheSize { products[order.removeFirst()] = nil }
                products[shape] = product
                order.append(shape)
            }
            if let source, let converted = products[source] {
                try product.run(a: a, reusingBOf: converted, bias: bias, c: c)
            } else {
                try product.run(a: a, b: b, bias: bias, c: c)
            }
            lastKernelName = "onednn:\(product.implementation)"
            return true
        } catch {
            refused = true
            products = [:]
            order = []
            lastKernelName = "sgemm"
            KernelBackend.note("\(name): \(error); this layer computes in fp32 on sgemm")
            return false
        }
    }
}
