import ArgumentParser

struct DeepClusterCommand: ParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "deepcluster",
        abstract: "DeepCluster (Caron et al., ECCV 2018) as a multi-process trainer on Open MPI and OpenBLAS.",
        discussion: """
        Run under mpirun for several ranks (mpirun -np 2 deepcluster train); started alone it is a world of one.
        Each rank uses cores ÷ ranks-on-this-node BLAS threads unless --threads says otherwise.
        """,
        version: version,
        subcommands: [SelfCheckCommand.self, TrainCommand.self, EvalCommand.self, ExtractCommand.self, AssignCommand.self, GalleryCommand.self, CheckDataCommand.self,
                      BenchCommand.self, DiagnoseCommand.self])
}
