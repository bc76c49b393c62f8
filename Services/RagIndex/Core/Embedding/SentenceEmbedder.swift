import Foundation

/// all-MiniLM-L6-v2 in Swift: a 6-layer BERT encoder (hidden 384, 12 heads, FFN 1536) whose token states
/// are mean-pooled over the attention mask and L2-normalised into a 384-dimensional sentence vector, as
/// sentence-transformers computes it. Matrix products go through BLAS; the rest are plain loops.
///
/// Immutable after loading, so one value is safely shared between tasks.
public struct SentenceEmbedder: Sendable {
    /// The length of every vector `embed` returns.
    public static let dimension = 384
    /// sentence-transformers' `max_seq_length` for this model: longer texts are truncated.
    public static let maxTokens = 256

    private static let layerCount = 6
    private static let headCount = 12
    private static let headSize = 32
    private static let intermediate = 1536
    private static let layerNormEpsilon: Float = 1e-12

    /// One encoder layer's weights; Q, K and V are fused into one [1152×384] matrix so one product serves all.
    private struct Layer: Sendable {
        var qkvWeight: [Float]
        var qkvBias: [Float]
        var outputWeight: [Float]
        var outputBias: [Float]
        var attentionNormWeight: [Float]
        var attentionNormBias: [Float]
        var intermediateWeight: [Float]
        var intermediateBias: [Float]
        var ffnOutputWeight: [Float]
        var ffnOutputBias: [Float]
        var outputNormWeight: [Float]
        var outputNormBias: [Float]
    }

    public let tokenizer: WordPieceTokenizer
    private let wordEmbeddings: [Float]
    private let positionEmbeddings: [Float]
    private let tokenTypeEmbeddings: [Float]
    private let embeddingNormWeight: [Float]
    private let embeddingNormBias: [Float]
    private let layers: [Layer]
    private let vocabularySize: Int

    /// Loads `model.safetensors` and `vocab.txt` from `directory` (see scripts/fetch-model.sh).
    public init(modelDirectory directory: String) throws(RagError) {
        let weightsPath = (directory as NSString).appendingPathComponent("model.safetensors")
        let vocabularyPath = (directory as NSString).appendingPathComponent("vocab.txt")
        for path in [weightsPath, vocabularyPath] where !FileManager.default.fileExists(atPath: path) {
            throw RagError(code: .modelMissing,
                           message: "\(path) does not exist; run scripts/fetch-model.sh (or set RAG_MODEL_DIR)",
                           context: "load model")
        }
        tokenizer = try WordPieceTokenizer(vocabularyPath: vocabularyPath)
        let file = try SafeTensors(path: weightsPath)
        let hidden = Self.dimension
        guard let vocabularyShape = file.entries["embeddings.word_embeddings.weight"]?.shape,
              vocabularyShape.count == 2 else {
            throw RagError(code: .invalidModel, message: "\(weightsPath) lacks embeddings.word_embeddings.weight",
                           context: "load model")
        }
        vocabularySize = vocabularyShape[0]
        wordEmbeddings = try file.floats("embeddings.word_embeddings.weight", shape: [vocabularySize, hidden])
        positionEmbeddings = try file.floats("embeddings.position_embeddings.weight", shape: [512, hidden])
        tokenTypeEmbeddings = try file.floats("embeddings.token_type_embeddings.weight", shape: [2, hidden])
        embeddingNormWeight = try file.floats("embeddings.LayerNorm.weight", shape: [hidden])
        embeddingNormBias = try file.floats("embeddings.LayerNorm.bias", shape: [hidden])
        var layers: [Layer] = []
        for index in 0..<Self.layerCount {
            let prefix = "encoder.layer.\(index)."
            func tensor(_ name: String, _ shape: [Int]) throws(RagError) -> [Float] {
                try file.floats(prefix + name, shape: shape)
            }
            layers.append(Layer(
                qkvWeight: try tensor("attention.self.query.weight", [hidden, hidden])
                    + tensor("attention.self.key.weight", [hidden, hidden])
                    + tensor("attention.self.value.weight", [hidden, hidden]),
                qkvBias: try tensor("attention.self.query.bias", [hidden])
                    + tensor("attention.self.key.bias", [hidden])
                    + tensor("attention.self.value.bias", [hidden]),
                outputWeight: try tensor("attention.output.dense.weight", [hidden, hidden]),
                outputBias: try tensor("attention.output.dense.bias", [hidden]),
                attentionNormWeight: try tensor("attention.output.LayerNorm.weight", [hidden]),
                attentionNormBias: try tensor("attention.output.LayerNorm.bias", [hidden]),
                intermediateWeight: try tensor("intermediate.dense.weight", [Self.intermediate, hidden]),
                intermediateBias: try tensor("intermediate.dense.bias", [Self.intermediate]),
                ffnOutputWeight: try tensor("output.dense.weight", [hidden, Self.intermediate]),
                ffnOutputBias: try tensor("output.dense.bias", [hidden]),
                outputNormWeight: try tensor("output.LayerNorm.weight", [hidden]),
                outputNormBias: try tensor("output.LayerNorm.bias", [hidden])))
        }
        self.layers = layers
    }

    /// One unit-length vector per text, in order. Texts are run through the encoder in batches of similar
    /// length so padding costs little.
    public func embed(_ texts: [String], batchSize: Int = 16) -> [[Float]] {
        let encoded = texts.map { tokenizer.encode($0, maxLength: Self.maxTokens) }
        var vectors = [[Float]](repeating: [], count: texts.count)
        let order = encoded.indices.sorted { encoded[$0].count < encoded[$1].count }
        var start = 0
        while start < order.count {
            let batch = Array(order[start..<min(start + max(1, batchSize), order.count)])
            let results = forward(batch.map { encoded[$0] })
            for (position, index) in batch.enumerated() { vectors[index] = results[position] }
            start += batch.count
        }
        return vectors
    }

    /// One vector for one text.
    public func embed(_ text: String) -> [Float] { embed([text])[0] }

    /// The encoder over a batch of token sequences, padded to the longest; returns pooled, normalised vectors.
    func forward(_ sequences: [[Int32]]) -> [[Float]] {
        let hidden = Self.dimension
        let batch = sequences.count
        let length = sequences.map(\.count).max() ?? 0
        guard batch > 0, length > 0 else { return sequences.map { _ in [Float](repeating: 0, count: hidden) } }
        let rows = batch * length
        var states = [Float](repeating: 0, count: rows * hidden)
        // Embeddings: word + position + token type 0, then LayerNorm. Padding rows stay zero-initialised
        // input; they are masked out of attention and pooling, so their values never matter.
        states.withUnsafeMutableBufferPointer { x in
            wordEmbeddings.withUnsafeBufferPointer { words in
                positionEmbeddings.withUnsafeBufferPointer { positions in
                    tokenTypeEmbeddings.withUnsafeBufferPointer { types in
                        for b in 0..<batch {
                            for (t, token) in sequences[b].enumerated() {
                                let id = Int(token) < vocabularySize && token >= 0 ? Int(token) : Int(tokenizer.unknownID)
                                let row = (b * length + t) * hidden
                                for h in 0..<hidden {
                                    x[row + h] = words[id * hidden + h] + positions[t * hidden + h] + types[h]
                                }
                            }
                        }
                    }
                }
            }
        }
        Self.layerNorm(&states, rows: rows, weight: embeddingNormWeight, bias: embeddingNormBias)
        var qkv = [Float](repeating: 0, count: rows * 3 * hidden)
        var context = [Float](repeating: 0, count: rows * hidden)
        var projected = [Float](repeating: 0, count: rows * hidden)
        var inner = [Float](repeating: 0, count: rows * Self.intermediate)
        var scores = [Float](repeating: 0, count: length * length)
        for layer in layers {
            Self.linear(states, rows: rows, inputs: hidden, weight: layer.qkvWeight, bias: layer.qkvBias,
                        outputs: 3 * hidden, into: &qkv)
            attention(qkv: qkv, sequences: sequences, length: length, scores: &scores, into: &context)
            Self.linear(context, rows: rows, inputs: hidden, weight: layer.outputWeight, bias: layer.outputBias,
                        outputs: hidden, into: &projected)
            Self.addInPlace(&projected, states)
            Self.layerNorm(&projected, rows: rows, weight: layer.attentionNormWeight, bias: layer.attentionNormBias)
            swap(&states, &projected)
            Self.linear(states, rows: rows, inputs: hidden, weight: layer.intermediateWeight,
                        bias: layer.intermediateBias, outputs: Self.intermediate, into: &inner)
            Self.gelu(&inner)
            Self.linear(inner, rows: rows, inputs: Self.intermediate, weight: layer.ffnOutputWeight,
                        bias: layer.ffnOutputBias, outputs: hidden, into: &projected)
            Self.addInPlace(&projected, states)
            Self.layerNorm(&projected, rows: rows, weight: layer.outputNormWeight, bias: layer.outputNormBias)
            swap(&states, &projected)
        }
        // Mean pooling over real tokens, then L2 normalisation.
        return (0..<batch).map { b in
            var pooled = [Float](repeating: 0, count: hidden)
            let count = sequences[b].count
            states.withUnsafeBufferPointer { x in
                for t in 0..<count {
                    let row = (b * length + t) * hidden
                    for h in 0..<hidden { pooled[h] += x[row + h] }
                }
            }
            var norm: Float = 0
            for h in 0..<hidden {
                pooled[h] /= Float(count)
                norm += pooled[h] * pooled[h]
            }
            let scale = 1 / max(norm.squareRoot(), 1e-12)
            for h in 0..<hidden { pooled[h] *= scale }
            return pooled
        }
    }

    /// Multi-head self-attention for every sequence: softmax(QKᵀ/√d + mask)·V per head, written into `output`
    /// (rows × hidden, heads side by side).
    private func attention(qkv: [Float], sequences: [[Int32]], length: Int, scores: inout [Float],
                           into output: inout [Float]) {
        let hidden = Self.dimension
        let stride = 3 * hidden
        let scale = 1 / Float(Self.headSize).squareRoot()
        qkv.withUnsafeBufferPointer { qkvBuffer in
            guard let base = qkvBuffer.baseAddress else { return }
            scores.withUnsafeMutableBufferPointer { scoreBuffer in
                guard let scoreBase = scoreBuffer.baseAddress else { return }
                output.withUnsafeMutableBufferPointer { outBuffer in
                    guard let outBase = outBuffer.baseAddress else { return }
                    for (b, sequence) in sequences.enumerated() {
                        let count = sequence.count
                        for head in 0..<Self.headCount {
                            let rowBase = b * length * stride
                            let query = base + rowBase + head * Self.headSize
                            let key = base + rowBase + hidden + head * Self.headSize
                            let value = base + rowBase + 2 * hidden + head * Self.headSize
                            // Only the sequence's own tokens attend or are attended to: padding is left out
                            // entirely, which is what the additive -inf mask amounts to.
                            BLASMatrix.multiplyTransposed(query, rows: count, lda: stride, key, rows: count,
                                                          ldb: stride, inner: Self.headSize, into: scoreBase,
                                                          ldc: count, scale: scale)
                            for row in 0..<count {
                                let line = scoreBase + row * count
                                var maximum = -Float.infinity
                                for column in 0..<count { maximum = max(maximum, line[column]) }
                                var sum: Float = 0
                                for column in 0..<count {
                                    let e = expf(line[column] - maximum)
                                    line[column] = e
                                    sum += e
                                }
                                let inverse = 1 / sum
                                for column in 0..<count { line[column] *= inverse }
                            }
                            BLASMatrix.multiply(scoreBase, rows: count, lda: count, value, columns: Self.headSize,
                                                ldb: stride, inner: count,
                                                into: outBase + b * length * hidden + head * Self.headSize,
                                                ldc: hidden)
                        }
                    }
                }
            }
        }
    }

    /// `output[rows × outputs] = input[rows × inputs] · weightᵀ + bias` (PyTorch's `Linear` layout).
    private static func linear(_ input: [Float], rows: Int, inputs: Int, weight: [Float], bias: [Float],
                               outputs: Int, into output: inout [Float]) {
        input.withUnsafeBufferPointer { a in
            weight.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { c in
                    guard let aBase = a.baseAddress, let wBase = w.baseAddress, let cBase = c.baseAddress else { return }
                    BLASMatrix.multiplyTransposed(aBase, rows: rows, lda: inputs, wBase, rows: outputs, ldb: inputs,
                                                  inner: inputs, into: cBase, ldc: outputs)
                    bias.withUnsafeBufferPointer { bb in
                        for row in 0..<rows {
                            let line = cBase + row * outputs
                            for column in 0..<outputs { line[column] += bb[column] }
                        }
                    }
                }
            }
        }
    }

    private static func addInPlace(_ target: inout [Float], _ other: [Float]) {
        target.withUnsafeMutableBufferPointer { t in
            other.withUnsafeBufferPointer { o in
                for index in 0..<min(t.count, o.count) { t[index] += o[index] }
            }
        }
    }

    /// LayerNorm over each row of `hidden` values (biased variance, ε = 1e-12, as BERT).
    private static func layerNorm(_ x: inout [Float], rows: Int, weight: [Float], bias: [Float]) {
        let hidden = weight.count
        x.withUnsafeMutableBufferPointer { buffer in
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    for row in 0..<rows {
                        let start = row * hidden
                        var mean: Float = 0
                        for h in 0..<hidden { mean += buffer[start + h] }
                        mean /= Float(hidden)
                        var variance: Float = 0
                        for h in 0..<hidden {
                            let d = buffer[start + h] - mean
                            variance += d * d
                        }
                        variance /= Float(hidden)
                        let inverse = 1 / (variance + layerNormEpsilon).squareRoot()
                        for h in 0..<hidden {
                            buffer[start + h] = (buffer[start + h] - mean) * inverse * w[h] + b[h]
                        }
                    }
                }
            }
        }
    }

    /// The exact (erf) GELU BERT uses.
    private static func gelu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                let v = buffer[index]
                buffer[index] = 0.5 * v * (1 + erff(v * 0.707_106_77))
            }
        }
    }
}
