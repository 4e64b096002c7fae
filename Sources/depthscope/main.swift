import ArgumentParser

// Temporary entry point of the tui branch: only the workbench commands. The root command
// in Depthscope.swift (core) replaces this file and registers WorkbenchCommand (as the
// default subcommand) and ReplayCommand.
struct DepthscopeWorkbenchOnly: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depthscope",
        subcommands: [WorkbenchCommand.self, ReplayCommand.self],
        defaultSubcommand: WorkbenchCommand.self)
}

DepthscopeWorkbenchOnly.main()
