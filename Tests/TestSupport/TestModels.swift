/// Small models more than one test target uses, written once.
public enum TestModels {
    /// 8 qubits measured on every wire fold into 8 × 3^8 = 52,488 coefficients, above the folded
    /// kernel's limit: the planner picks the compiled state-vector kernel.
    public static let eightQubitCircuit = """
        model "wide8"
        input %angles: f32[N,8]
        %z = circuit(%angles, @pqc.weights, wires=8) {
          angle_embedding(x, rotation="Y")
          for l in 0..2 {
            for q in 0..8 { rot(w[l,q,0], w[l,q,1], w[l,q,2], wires=q) }
            for q in 0..7 { cnot(wires=[q, q+1]) }
          }
          expval(Z, wires=[0,1,2,3,4,5,6,7])
        }
        output %z
        """
}
