import Engine
import Workbench

print("depthscope \(EngineInfo.version)")
