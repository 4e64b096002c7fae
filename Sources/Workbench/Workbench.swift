import Engine

/// The terminal workbench: screen abstraction, panes, layout, input and themes.
public enum WorkbenchInfo {
    public static let name = "depthscope workbench"
}
