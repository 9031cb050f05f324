//! OpenBLAS's `cblas_sgemm`, loaded at run time from Debian's `libopenblas0`.
//!
//! Loaded with `dlopen` when the first embedder loads rather than linked: a machine without
//! the library still runs everything else, and the embedder says what to install. Before the
//! library initialises, `OPENBLAS_CORETYPE` is set (when the environment does not already set
//! it) from the CPU's features: OpenBLAS 0.3.21, Debian 12's, does not know CPUs newer than
//! it (Emerald Rapids here) and falls back to its Pentium 4 kernels, about 5× slower than its
//! AVX-512 ones on this model's matrix shapes. The kernels named are those OpenBLAS itself
//! picks for the Intel CPUs of the same instruction sets (Skylake-X, Haswell).
//!
//! The embedder runs its own threads, each computing its own products, so OpenBLAS is told to
//! use one thread per call (its own pool would spin on the same cores).

use std::ffi::{c_char, c_int, CStr};
use std::sync::OnceLock;

use candle_core::bail;
use libloading::Library;

/// The file `dlopen` looks for: Debian's `libopenblas0` (through the `libopenblas.so.0`
/// alternative, pthread or OpenMP variant).
pub(super) const LIBRARY: &str = "libopenblas.so.0";

const ROW_MAJOR: c_int = 101;
const NO_TRANS: c_int = 111;
const TRANS: c_int = 112;

type SgemmFn = unsafe extern "C" fn(
    c_int, // order
    c_int, // trans_a
    c_int, // trans_b
    c_int, // m
    c_int, // n
    c_int, // k
    f32,   // alpha
    *const f32,
    c_int, // lda
    *const f32,
    c_int, // ldb
    f32,   // beta
    *mut f32,
    c_int, // ldc
);
type SetThreadsFn = unsafe extern "C" fn(c_int);
type CoreNameFn = unsafe extern "C" fn() -> *const c_char;

/// The loaded library and the functions the embedder calls.
#[derive(Debug)]
pub(super) struct Blas {
    sgemm: SgemmFn,
    kernels: String,
    /// Keeps the functions above mapped; never dropped (the value lives in a static).
    _library: Library,
}

/// A matrix in row-major order: `rows` × `cols` values, row `i` starting at `data[i * stride]`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Matrix<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub stride: usize,
}

impl<'a> Matrix<'a> {
    /// A dense matrix: rows follow each other without gaps.
    pub fn dense(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            stride: cols,
        }
    }

    /// The same matrix read transposed (`cols` × `rows`), without moving data.
    pub fn t(self) -> Transposed<'a> {
        Transposed(self)
    }
}

/// A [`Matrix`] used transposed in a product.
#[derive(Clone, Copy, Debug)]
pub(super) struct Transposed<'a>(Matrix<'a>);

/// The right-hand side of a product: a matrix as stored, or transposed.
#[derive(Clone, Copy, Debug)]
pub(super) enum Operand<'a> {
    /// Used as stored.
    Plain(Matrix<'a>),
    /// Used transposed.
    Transposed(Matrix<'a>),
}

impl<'a> From<Matrix<'a>> for Operand<'a> {
    fn from(matrix: Matrix<'a>) -> Self {
        Operand::Plain(matrix)
    }
}

impl<'a> From<Transposed<'a>> for Operand<'a> {
    fn from(transposed: Transposed<'a>) -> Self {
        Operand::Transposed(transposed.0)
    }
}

impl Blas {
    /// The process's OpenBLAS, loaded on the first call.
    ///
    /// # Errors
    /// Why the library or one of its functions could not be loaded.
    pub fn get() -> Result<&'static Blas, String> {
        static BLAS: OnceLock<Result<Blas, String>> = OnceLock::new();
        BLAS.get_or_init(Blas::load).as_ref().map_err(Clone::clone)
    }

    fn load() -> Result<Blas, String> {
        choose_kernels();
        // SAFETY: loading runs OpenBLAS's initialiser, which only reads the environment and
        // the CPU, allocates its buffers and starts its (idle) thread pool.
        let library = unsafe { Library::new(LIBRARY) }.map_err(|err| err.to_string())?;
        // SAFETY: the types are those of OpenBLAS's cblas.h (32-bit integers: Debian's
        // libopenblas0 is not the ILP64 libopenblas64-0).
        let (sgemm, set_threads, core_name) = unsafe {
            (
                *library
                    .get::<SgemmFn>(b"cblas_sgemm\0")
                    .map_err(|err| err.to_string())?,
                *library
                    .get::<SetThreadsFn>(b"openblas_set_num_threads\0")
                    .map_err(|err| err.to_string())?,
                *library
                    .get::<CoreNameFn>(b"openblas_get_corename\0")
                    .map_err(|err| err.to_string())?,
            )
        };
        // SAFETY: plain calls without pointers; the name is a static NUL-terminated string.
        let kernels = unsafe {
            set_threads(1);
            let name = core_name();
            if name.is_null() {
                String::from("unknown")
            } else {
                CStr::from_ptr(name).to_string_lossy().into_owned()
            }
        };
        tracing::debug!(library = LIBRARY, %kernels, "OpenBLAS loaded");
        Ok(Blas {
            sgemm,
            kernels,
            _library: library,
        })
    }

    /// The kernels OpenBLAS runs on this CPU (`SkylakeX`, `Haswell`, …).
    pub fn kernels(&self) -> &str {
        &self.kernels
    }

    /// `c = alpha · a · b + beta · c`, with `b` as stored or transposed.
    ///
    /// # Errors
    /// When the shapes do not fit together or a slice is shorter than its shape says (the
    /// library would read or write outside it); nothing is computed then.
    pub fn gemm<'b>(
        &self,
        alpha: f32,
        a: Matrix<'_>,
        b: impl Into<Operand<'b>>,
        beta: f32,
        c: &mut [f32],
        c_stride: usize,
    ) -> candle_core::Result<()> {
        let (b, trans_b, b_rows, b_cols) = match b.into() {
            Operand::Plain(b) => (b, NO_TRANS, b.rows, b.cols),
            Operand::Transposed(b) => (b, TRANS, b.cols, b.rows),
        };
        let (m, k, n) = (a.rows, a.cols, b_cols);
        if k != b_rows {
            bail!("matrix product of {m}×{k} by {b_rows}×{n}: inner dimensions differ");
        }
        if !fits(a) || !fits(b) {
            bail!("matrix product: an operand is shorter than its shape");
        }
        let c_fits = c_stride >= n && (m == 0 || c.len() >= (m - 1) * c_stride + n);
        if !c_fits {
            bail!("matrix product: the {m}×{n} result does not fit its slice");
        }
        if m == 0 || n == 0 {
            return Ok(());
        }
        let int = |value: usize| {
            c_int::try_from(value)
                .map_err(|_| candle_core::Error::Msg(format!("matrix size {value} too large")))
        };
        let (m, n, k) = (int(m)?, int(n)?, int(k)?);
        let (lda, ldb, ldc) = (int(a.stride)?, int(b.stride)?, int(c_stride)?);
        // SAFETY: the checks above keep every access of the library inside the slices (the
        // strides are at least the row lengths, so also at least 1); `c` is borrowed
        // mutably, so it aliases neither `a` nor `b`.
        unsafe {
            (self.sgemm)(
                ROW_MAJOR,
                NO_TRANS,
                trans_b,
                m,
                n,
                k,
                alpha,
                a.data.as_ptr(),
                lda,
                b.data.as_ptr(),
                ldb,
                beta,
                c.as_mut_ptr(),
                ldc,
            );
        }
        Ok(())
    }
}

/// Whether `matrix.data` holds every value its shape and stride address.
fn fits(matrix: Matrix<'_>) -> bool {
    matrix.stride >= matrix.cols
        && (matrix.rows == 0
            || matrix.cols == 0
            || matrix.data.len() >= (matrix.rows - 1) * matrix.stride + matrix.cols)
}

/// Sets `OPENBLAS_CORETYPE` for the library about to load, unless the environment has it.
fn choose_kernels() {
    const VARIABLE: &str = "OPENBLAS_CORETYPE";
    if std::env::var_os(VARIABLE).is_some() {
        return;
    }
    if let Some(core) = kernels_for_this_cpu() {
        // Read by OpenBLAS's initialiser when the library loads, just after this. Once per
        // process; like any change of the environment, it is not synchronised with C code
        // reading the environment in another thread at that instant.
        std::env::set_var(VARIABLE, core);
    }
}

/// The OpenBLAS kernels this CPU can run best: AVX-512 (SkylakeX, also right for Ice Lake,
/// Sapphire and Emerald Rapids, Zen 4), AVX2 + FMA (Haswell, also Zen 1–3), or none named
/// (OpenBLAS's own choice) for anything older.
fn kernels_for_this_cpu() -> Option<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
        {
            return Some("SkylakeX");
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Some("Haswell");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blas() -> &'static Blas {
        Blas::get().expect("libopenblas0 is installed (make setup)")
    }

    #[test]
    fn a_product_with_a_transposed_operand_and_strides() {
        // a: 2×2 inside rows of 3; b stored 3×2, used transposed as 2×3
        let a = [1.0, 2.0, 99.0, 3.0, 4.0, 99.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut c = [10.0; 6];
        let a = Matrix {
            data: &a,
            rows: 2,
            cols: 2,
            stride: 3,
        };
        blas()
            .gemm(1.0, a, Matrix::dense(&b, 3, 2).t(), 1.0, &mut c, 3)
            .unwrap();
        assert_eq!(c, [11.0, 12.0, 13.0, 13.0, 14.0, 17.0]);
    }

    #[test]
    fn a_short_slice_is_an_error_before_the_library_sees_it() {
        let mut c = [0.0; 4];
        let a = Matrix::dense(&[1.0; 3], 2, 2);
        let b = Matrix::dense(&[1.0; 4], 2, 2);
        let err = blas().gemm(1.0, a, b, 0.0, &mut c, 2).unwrap_err();
        assert!(err.to_string().contains("shorter than its shape"), "{err}");
        assert_eq!(c, [0.0; 4]);
    }

    #[test]
    fn a_cpu_with_avx2_runs_vector_kernels_not_the_fallback() {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            let kernels = blas().kernels();
            assert!(
                ["SkylakeX", "Haswell"].contains(&kernels),
                "OpenBLAS runs {kernels} kernels"
            );
        }
    }
}
