DeepClusterCommand.main()
