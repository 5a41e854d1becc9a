/// Hands a fuzz target to libFuzzer. Each target defines `LLVMFuzzerTestOneInput` and its main.swift
/// ends with `runFuzzer(fuzz)`: whichever `main` the link keeps — SwiftPM's for the executable or
/// libFuzzer's own — libFuzzer's driver runs on the command line (corpus directories, -max_total_time...).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_silgen_name("exit") func exitProcess(_ status: CInt) -> Never

public func runFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exitProcess(LLVMFuzzerRunDriver(&argc, &argv, callback))
}
