/// Reference outputs of `reference.py` (NumPy, float64) for the parameters `tandem run --check`
/// and `tandem bench` use: the cases of `expected.json`, plus the medium bench sizes measured by
/// `bench/peers/run_peers.py` with the NumPy reference.
enum Reference {
    struct Case {
        let workload: String
        let params: [String: Double]
        let outputs: [String: Double]
    }

    static let cases: [Case] = [
        Case(workload: "black_scholes", params: ["n": 1000, "iterations": 1],
             outputs: ["call_sum": 2945.501166934582, "put_sum": 31335.87269608432]),
        Case(workload: "black_scholes", params: ["n": 1_000_000, "iterations": 4],
             outputs: ["call_sum": 11971872.115162289, "put_sum": 124487151.91971292]),
        Case(workload: "sor", params: ["n": 30, "max_iterations": 1000, "epsilon": 0.001],
             outputs: ["sweeps": 1000, "last_delta": 0.010606183432569931, "sum": 254.4265944636242]),
        Case(workload: "sor", params: ["n": 256, "max_iterations": 200, "epsilon": 0],
             outputs: ["sweeps": 200, "last_delta": 4.3262512160953595, "sum": 1916.7498817520955]),
        Case(workload: "red_black_sor", params: ["n": 31, "iterations": 10, "omega": 1.5],
             outputs: ["sum": 137.1431076532016]),
        Case(workload: "red_black_sor", params: ["n": 256, "iterations": 100, "omega": 1.5],
             outputs: ["sum": 3486.516193493627]),
        Case(workload: "shallow_water", params: ["n": 20, "steps": 10, "dt": 0.02, "dx": 1, "dy": 1, "g": 9.8],
             outputs: ["h_sum": 488.9242107516251, "energy": 9.829743995751477]),
        Case(workload: "shallow_water", params: ["n": 256, "steps": 100, "dt": 0.02, "dx": 1, "dy": 1, "g": 9.8],
             outputs: ["h_sum": 67368.24787237808, "energy": 1684.8692506783416]),
        Case(workload: "nbody", params: ["n": 100, "steps": 3, "dt": 0.005, "G": 0.01, "eps": 0.1],
             outputs: ["x_sum": -2.2858435817456684, "y_sum": 5.715698328042736, "z_sum": -0.7183307190370818, "kinetic": 0.0033140339155915085]),
        Case(workload: "nbody", params: ["n": 2000, "steps": 10, "dt": 0.005, "G": 0.01, "eps": 0.1],
             outputs: ["x_sum": -7.002656519024978, "y_sum": 25.248521914944966, "z_sum": -7.11142087813565, "kinetic": 212.0655557245948]),
        Case(workload: "gmm_em", params: ["n": 1000, "d": 3, "k": 4, "iterations": 3],
             outputs: ["loglik_first": -26701.097557117882, "loglik_last": -6163.832354106301, "mu_abs_sum": 50.728352530462764, "var_sum": 24.21830592472846]),
        Case(workload: "gmm_em", params: ["n": 100_000, "d": 8, "k": 16, "iterations": 10],
             outputs: ["loglik_first": -12349404.105858006, "loglik_last": -1538334.5010377897, "mu_abs_sum": 587.3815013948627, "var_sum": 322.78578669904067]),
        // Medium bench sizes: reference.py (NumPy, float64), run by bench/peers/run_peers.py.
        Case(workload: "black_scholes", params: ["n": 10_000_000, "iterations": 4],
             outputs: ["call_sum": 119624064.66622122, "put_sum": 1245116343.0167413]),
        Case(workload: "sor", params: ["n": 2048, "max_iterations": 100, "epsilon": 0],
             outputs: ["sweeps": 100, "last_delta": 51.34729472482739, "sum": 11385.096749489503]),
        Case(workload: "red_black_sor", params: ["n": 2048, "iterations": 100, "omega": 1.5],
             outputs: ["sum": 29111.272151250127]),
        Case(workload: "shallow_water", params: ["n": 2048, "steps": 50, "dt": 0.02, "dx": 1, "dy": 1, "g": 9.8],
             outputs: ["h_sum": 4253971.853280913, "energy": 644.0252207051756]),
        Case(workload: "nbody", params: ["n": 8192, "steps": 4, "dt": 0.005, "G": 0.01, "eps": 0.1],
             outputs: ["x_sum": -38.24354584672517, "y_sum": 22.207758910767577, "z_sum": -56.23217122593357, "kinetic": 2372.7876720751246]),
        Case(workload: "gmm_em", params: ["n": 1_000_000, "d": 8, "k": 16, "iterations": 5],
             outputs: ["loglik_first": -123524177.5755746, "loglik_last": -15958183.019474253, "mu_abs_sum": 585.5565216166542, "var_sum": 337.2023556802181]),
    ]

    static func outputs(_ workload: String, _ params: [String: Double]) -> [String: Double]? {
        cases.first { $0.workload == workload && $0.params == params }?.outputs
    }

    static func describeCases(_ workload: String) -> String {
        cases.filter { $0.workload == workload }.map { c in
            c.params.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")
        }.joined(separator: "; ")
    }
}
