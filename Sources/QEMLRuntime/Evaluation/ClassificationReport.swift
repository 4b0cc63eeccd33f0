import Foundation

/// Accuracy, per-class precision / recall / F1, macro-F1, macro one-vs-rest ROC AUC and the
/// confusion matrix of a classifier's probabilities against true labels — the measures of
/// scikit-learn's `classification_report`, `f1_score(average="macro")` and
/// `roc_auc_score(multi_class="ovr", average="macro")`.
public struct ClassificationReport: Codable, Sendable {
    public struct PerClass: Codable, Sendable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
        /// One-vs-rest ROC AUC; nil (JSON null) when the class has no positive or no negative sample.
        public var auc: Double?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(precision, forKey: .precision); try c.encode(recall, forKey: .recall)
            try c.encode(f1, forKey: .f1); try c.encode(support, forKey: .support); try c.encode(auc, forKey: .auc)
        }
    }

    public var labels: [String]
    public var count: Int
    public var accuracy: Double
    public var macroF1: Double
    /// Macro average of the per-class AUCs that exist; nil if none does.
    public var auc: Double?
    public var perClass: [String: PerClass]
    /// confusion[true][predicted], in `labels` order.
    public var confusion: [[Int]]

    enum CodingKeys: String, CodingKey {
        case labels, count, accuracy, macroF1 = "macro_f1", auc, perClass = "per_class", confusion
    }

    /// `probabilities`: one row of `labels.count` scores per sample; `truth`: class indices.
    public init(labels: [String], probabilities: [[Float]], truth: [Int]) {
        let k = labels.count, n = truth.count
        precondition(probabilities.count == n && probabilities.allSatisfy { $0.count == k })
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (p, t) in zip(probabilities, truth) { confusion[t][Self.argmax(p)] += 1 }
        var per: [String: PerClass] = [:]
        var f1s: [Double] = [], aucs: [Double] = []
        for c in 0..<k {
            let tp = Double(confusion[c][c])
            let predicted = Double((0..<k).reduce(0) { $0 + confusion[$1][c] })
            let actual = Double(confusion[c].reduce(0, +))
            let precision = predicted > 0 ? tp / predicted : 0
            let recall = actual > 0 ? tp / actual : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            let auc = Self.rocAUC(scores: probabilities.map { Double($0[c]) }, positive: truth.map { $0 == c })
            per[labels[c]] = PerClass(precision: precision, recall: recall, f1: f1, support: Int(actual), auc: auc)
            if actual > 0 { f1s.append(f1) }
            if let auc { aucs.append(auc) }
        }
        self.labels = labels
        count = n
        accuracy = n > 0 ? Double((0..<k).reduce(0) { $0 + confusion[$1][$1] }) / Double(n) : 0
        // Classes absent from the truth are left out of the macro average (scikit-learn warns and
        // counts them as 0; a subset of the classes would otherwise read as a poor model).
        macroF1 = f1s.isEmpty ? 0 : f1s.reduce(0, +) / Double(f1s.count)
        auc = aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
        perClass = per
        self.confusion = confusion
    }

    /// The index of the largest score (the first on ties; NaN never wins).
    public static func argmax(_ row: [Float]) -> Int {
        var best = 0
        for i in row.indices where row[i] > row[best] || row[best].isNaN { best = i }
        return best
    }

    /// The area under the ROC curve: the Mann–Whitney U statistic with average ranks for ties.
    static func rocAUC(scores: [Double], positive: [Bool]) -> Double? {
        let pos = positive.filter { $0 }.count, neg = positive.count - pos
        guard pos > 0, neg > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for m in i...j where positive[order[m]] { rankSum += rank }
            i = j + 1
        }
        return (rankSum - Double(pos) * Double(pos + 1) / 2) / (Double(pos) * Double(neg))
    }
}
