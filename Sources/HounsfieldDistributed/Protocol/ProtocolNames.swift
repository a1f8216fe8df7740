import HounsfieldProtocol

/// The generated protocol types under the names this module uses.
typealias WorkerMessage = Hounsfield_Distributed_V1_WorkerMessage
typealias CoordinatorMessage = Hounsfield_Distributed_V1_CoordinatorMessage
typealias CoordinatorRPC = Hounsfield_Distributed_V1_Coordinator
