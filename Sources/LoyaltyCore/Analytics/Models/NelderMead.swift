/// Minimises a smooth function of a few variables without derivatives (Nelder & Mead 1965), restarting
/// from the best point until a restart no longer improves it: the maximum-likelihood fits use it on
/// log-parameters, where every point is valid.
enum NelderMead {
    struct Result {
        var point: [Double]
        var value: Double
        var evaluations: Int
    }

    /// - Parameters:
    ///   - start: the first guess.
    ///   - step: the initial simplex's edge along each axis.
    ///   - maximumEvaluations: an explicit bound on the work, whatever the function does.
    static func minimize(
        start: [Double], step: Double = 0.5, relativeTolerance: Double = 1e-13, maximumEvaluations: Int = 40_000,
        _ function: ([Double]) -> Double
    ) -> Result {
        var evaluations = 0
        func evaluate(_ point: [Double]) -> Double {
            evaluations += 1
            // Log-parameters beyond ±30 (e^30 ≈ 1e13) are outside any meaningful model.
            guard point.allSatisfy({ abs($0) <= 30 }) else { return .infinity }
            let value = function(point)
            return value.isNaN ? .infinity : value
        }
        var best = Result(point: start, value: evaluate(start), evaluations: 0)
        var restartStep = step
        for _ in 0..<20 {
            let before = best.value
            best = run(
                from: best.point, value: best.value, step: restartStep, tolerance: relativeTolerance,
                budget: maximumEvaluations - evaluations, evaluate)
            restartStep = max(step / 10, 1e-3)
            let improvement = before - best.value
            if improvement <= relativeTolerance * (abs(best.value) + 1) || evaluations >= maximumEvaluations { break }
        }
        best.evaluations = evaluations
        return best
    }

    private static func run(
        from start: [Double], value startValue: Double, step: Double, tolerance: Double, budget: Int,
        _ evaluateCounted: ([Double]) -> Double
    ) -> Result {
        var evaluations = 0
        func evaluate(_ point: [Double]) -> Double {
            evaluations += 1
            return evaluateCounted(point)
        }
        let dimension = start.count
        var simplex = [start]
        var values = [startValue]
        for axis in 0..<dimension {
            var point = start
            point[axis] += step
            simplex.append(point)
            values.append(evaluate(point))
        }
        while evaluations < budget {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let spread = abs(values[dimension] - values[0])
            let size = simplex.dropFirst().map { point in zip(point, simplex[0]).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
            // Converged: the values agree and the simplex is small (log-parameters to 1e-7), or the
            // values agree to rounding (a flat ridge, e.g. a parameter drifting to a boundary).
            let scale = abs(values[0]) + 1
            if (spread <= tolerance * scale && size <= 1e-7) || spread <= 1e-15 * scale { break }
            var centroid = [Double](repeating: 0, count: dimension)
            for point in simplex.dropLast() {
                for axis in 0..<dimension { centroid[axis] += point[axis] / Double(dimension) }
            }
            func along(_ coefficient: Double) -> [Double] {
                (0..<dimension).map { centroid[$0] + coefficient * (simplex[dimension][$0] - centroid[$0]) }
            }
            let reflected = along(-1)
            let reflectedValue = evaluate(reflected)
            if reflectedValue < values[0] {
                let expanded = along(-2)
                let expandedValue = evaluate(expanded)
                (simplex[dimension], values[dimension]) =
                    expandedValue < reflectedValue ? (expanded, expandedValue) : (reflected, reflectedValue)
            } else if reflectedValue < values[dimension - 1] {
                (simplex[dimension], values[dimension]) = (reflected, reflectedValue)
            } else {
                let outside = reflectedValue < values[dimension]
                let contracted = along(outside ? -0.5 : 0.5)
                let contractedValue = evaluate(contracted)
                if contractedValue < min(reflectedValue, values[dimension]) {
                    (simplex[dimension], values[dimension]) = (contracted, contractedValue)
                } else {
                    for index in 1...dimension {
                        simplex[index] = (0..<dimension).map { simplex[0][$0] + 0.5 * (simplex[index][$0] - simplex[0][$0]) }
                        values[index] = evaluate(simplex[index])
                    }
                }
            }
        }
        let bestIndex = values.indices.min { values[$0] < values[$1] }!
        return Result(point: simplex[bestIndex], value: values[bestIndex], evaluations: evaluations)
    }
}
