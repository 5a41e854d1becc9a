import FuzzDriver
import Datasets

/// CIFAR-10 and CIFAR-100 batch files.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let b = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? CIFAR.decode(b, variant: .cifar10, path: "fuzz")
    _ = try? CIFAR.decode(b, variant: .cifar100, path: "fuzz")
    return 0
}

runFuzzer(fuzz)
