import QEMLCodegen
import QEMLIR

extension PlanBuilder {
    /// `fused_cbam`: the reference kernel until the code generator's CBAM kernels are used here.
    mutating func planCBAM(_ i: Int, _ n: Node, _ name: String) throws {
        try addFallback(node: i, why: "no generated CBAM kernel yet")
    }
}
