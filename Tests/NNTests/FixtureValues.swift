/// The integer hash make_fmnist_fixture.py fills weights and input with, bit for bit.
enum FixtureValues {
    static func hashed(_ n: Int, tag: Int, scale: Double, shift: Double = 0) -> [Float] {
        (0..<n).map { i in
            let h = (UInt64(i) &* 2654435761 &+ UInt64(tag) &* 40503) % 4294967296
            return Float((Double(h) / 4294967296.0 - 0.5) * scale + shift)
        }
    }

    static func input(batch: Int) -> [Float] {
        (0..<(batch * 784)).map { i in Float((Double(i * 37 % 256) / 255.0 - 0.2860) / 0.3530) }
    }
}
