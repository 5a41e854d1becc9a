extension Recipe {
    /// The checkpoint's configuration applied to other images (`eval`, `extract`, `assign`, `gallery`):
    /// `data` (nil: Fashion-MNIST), and `resize` when given (otherwise the training run's).
    public func reading(_ data: String?, resize: Int?) -> Recipe {
        var c = self
        c.data = data
        if let r = resize { c.resize = r }
        return c
    }
}
