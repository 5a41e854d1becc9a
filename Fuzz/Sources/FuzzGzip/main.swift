import FuzzDriver
import Datasets

/// gzip streams as FileBytes inflates them (the .gz IDX files), members concatenated or cut short.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    _ = try? FileBytes.gunzip([0x1f, 0x8b] + Array(UnsafeBufferPointer(start: data, count: size)), path: "fuzz")
    return 0
}

runFuzzer(fuzz)
