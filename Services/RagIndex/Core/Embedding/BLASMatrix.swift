import CBLAS

/// The one BLAS call the model needs, C = A·Bᵀ (+ C when `accumulate`), row-major, wrapped so the rest of
/// the model never names a CBLAS type.
enum BLASMatrix {
    /// `c[m×n] = a[m×k] · b[n×k]ᵀ`, with leading dimensions (row strides) given for views into wider rows.
    static func multiplyTransposed(
        _ a: UnsafePointer<Float>, rows m: Int, lda: Int,
        _ b: UnsafePointer<Float>, rows n: Int, ldb: Int,
        inner k: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, scale: Float = 1
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(m), blasint(n), blasint(k),
                    scale, a, blasint(lda), b, blasint(ldb), 0, c, blasint(ldc))
    }

    /// `c[m×n] = a[m×k] · b[k×n]`, row-major, with leading dimensions.
    static func multiply(
        _ a: UnsafePointer<Float>, rows m: Int, lda: Int,
        _ b: UnsafePointer<Float>, columns n: Int, ldb: Int,
        inner k: Int, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(m), blasint(n), blasint(k),
                    1, a, blasint(lda), b, blasint(ldb), 0, c, blasint(ldc))
    }
}
