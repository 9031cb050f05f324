//! The encoder's operations as candle custom ops on contiguous f32 CPU tensors: dense layers
//! through OpenBLAS (with GELU fused in), self-attention over packed sequences, residual +
//! layer norm. The loops are written so that the compiler vectorises them: `exp` and `erf`
//! are polynomials instead of calls into libm, and sums keep [`LANES`] partial sums.

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp3, Layout, Result, Shape};

use super::blas::{Blas, Matrix};

/// Partial sums kept side by side in reductions, one vector register of AVX-512 f32.
const LANES: usize = 16;

/// `x · weightᵀ + bias` (a PyTorch `Linear`: weight is `[out, in]`), optionally followed by
/// the exact (erf) GELU. Inputs: x `[rows, in]`, weight `[out, in]`, bias `[out]`.
pub(super) struct Dense<'a> {
    pub blas: &'a Blas,
    pub gelu: bool,
}

impl CustomOp3 for Dense<'_> {
    fn name(&self) -> &'static str {
        "airlock-dense"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
        weight: &CpuStorage,
        weight_layout: &Layout,
        bias: &CpuStorage,
        bias_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (rows, inputs) = x_layout.shape().dims2()?;
        let (outputs, weight_inputs) = weight_layout.shape().dims2()?;
        let bias_len = bias_layout.shape().dims1()?;
        if weight_inputs != inputs || bias_len != outputs {
            bail!(
                "dense layer: x {rows}×{inputs}, weight {outputs}×{weight_inputs}, bias {bias_len}"
            );
        }
        let (x, weight, bias) = (
            contiguous(x, x_layout)?,
            contiguous(weight, weight_layout)?,
            contiguous(bias, bias_layout)?,
        );
        let mut out = Vec::with_capacity(rows * outputs);
        for _ in 0..rows {
            out.extend_from_slice(bias);
        }
        self.blas.gemm(
            1.0,
            Matrix::dense(x, rows, inputs),
            Matrix::dense(weight, outputs, inputs).t(),
            1.0,
            &mut out,
            outputs,
        )?;
        if self.gelu {
            out.iter_mut().for_each(|value| *value = gelu(*value));
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, outputs))))
    }
}

/// Multi-head self-attention of sequences packed one after the other, without padding: the
/// input is `[rows, 3 · hidden]` (each row a token's query, key and value, heads side by side),
/// `lens` the sequences' token counts (summing to rows); each token attends to the tokens of
/// its own sequence only. Output: `[rows, hidden]`, heads side by side.
pub(super) struct Attention<'a> {
    pub blas: &'a Blas,
    pub lens: &'a [usize],
    pub heads: usize,
}

impl CustomOp1 for Attention<'_> {
    fn name(&self) -> &'static str {
        "airlock-attention"
    }

    fn cpu_fwd(&self, qkv: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (rows, width) = layout.shape().dims2()?;
        let hidden = width / 3;
        if !width.is_multiple_of(3) || self.heads == 0 || !hidden.is_multiple_of(self.heads) {
            bail!("attention: width {width} is not 3 × {} heads", self.heads);
        }
        if self.lens.iter().sum::<usize>() != rows {
            bail!("attention: sequence lengths do not add up to {rows} rows");
        }
        let qkv = contiguous(qkv, layout)?;
        let head_size = hidden / self.heads;
        let scale = 1.0 / (head_size as f32).sqrt();
        let longest = self.lens.iter().copied().max().unwrap_or(0);
        let mut scores = vec![0.0f32; longest * longest];
        let mut out = vec![0.0f32; rows * hidden];

        let mut first = 0;
        for &len in self.lens {
            let sequence = &qkv[first * width..(first + len) * width];
            let context = &mut out[first * hidden..(first + len) * hidden];
            let scores = &mut scores[..len * len];
            for head in 0..self.heads {
                let part = |offset: usize| Matrix {
                    data: &sequence[offset + head * head_size..],
                    rows: len,
                    cols: head_size,
                    stride: width,
                };
                let (query, key, value) = (part(0), part(hidden), part(2 * hidden));
                self.blas.gemm(scale, query, key.t(), 0.0, scores, len)?;
                scores.chunks_exact_mut(len.max(1)).for_each(softmax);
                self.blas.gemm(
                    1.0,
                    Matrix::dense(scores, len, len),
                    value,
                    0.0,
                    &mut context[head * head_size..],
                    hidden,
                )?;
            }
            first += len;
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, hidden))))
    }
}

/// `LayerNorm(x + residual)`: x and residual `[rows, hidden]`, the norm's weight and bias
/// stacked as `[2, hidden]`.
pub(super) struct AddNorm {
    pub eps: f32,
}

impl CustomOp3 for AddNorm {
    fn name(&self) -> &'static str {
        "airlock-add-norm"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
        norm: &CpuStorage,
        norm_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (rows, hidden) = x_layout.shape().dims2()?;
        if residual_layout.shape().dims2()? != (rows, hidden)
            || norm_layout.shape().dims2()? != (2, hidden)
        {
            bail!("add + layer norm: shapes differ from {rows}×{hidden}");
        }
        let (x, residual, norm) = (
            contiguous(x, x_layout)?,
            contiguous(residual, residual_layout)?,
            contiguous(norm, norm_layout)?,
        );
        let (weight, bias) = norm.split_at(hidden);
        let mut out: Vec<f32> = x.iter().zip(residual).map(|(a, b)| a + b).collect();
        for row in out.chunks_exact_mut(hidden.max(1)) {
            layer_norm(row, weight, bias, self.eps);
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, hidden))))
    }
}

/// The f32 values of a contiguous tensor.
fn contiguous<'s>(storage: &'s CpuStorage, layout: &Layout) -> Result<&'s [f32]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("expected a contiguous tensor");
    };
    Ok(&storage.as_slice::<f32>()?[start..end])
}

/// Normalises `row` to mean 0 and variance 1, then scales and shifts it per element.
fn layer_norm(row: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = sum(row) / n;
    row.iter_mut().for_each(|value| *value -= mean);
    let variance = sum_of_squares(row) / n;
    let scale = 1.0 / (variance + eps).sqrt();
    for ((value, w), b) in row.iter_mut().zip(weight).zip(bias) {
        *value = *value * scale * w + b;
    }
}

/// Replaces `row` by its softmax.
fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    row.iter_mut().for_each(|value| *value = exp(*value - max));
    let scale = 1.0 / sum(row);
    row.iter_mut().for_each(|value| *value *= scale);
}

fn sum(values: &[f32]) -> f32 {
    reduce(values, |value| value)
}

fn sum_of_squares(values: &[f32]) -> f32 {
    reduce(values, |value| value * value)
}

/// The sum of `f(value)` over `values`, in [`LANES`] partial sums so that it vectorises.
#[inline(always)]
fn reduce(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&value| f(value)).sum();
    for chunk in chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane += f(value);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The exact GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))`, as BERT's `hidden_act = "gelu"`.
#[inline(always)]
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf by Abramowitz & Stegun 7.1.26, the approximation PyTorch's vectorised CPU `erf` uses
/// too: absolute error 1.5e-7, in f32 up to about 5e-7 near 0 (where `1 - p · e^(-x²)`
/// cancels).
#[inline(always)]
fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152,
        1.061_405_4,
    ];
    let a = x.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = ((((A[4] * t + A[3]) * t + A[2]) * t + A[1]) * t + A[0]) * t;
    (1.0 - poly * exp(-a * a)).copysign(x)
}

/// e^x for x in [-87, 88] (clamped outside): Cody–Waite range reduction and Cephes' `expf`
/// polynomial, within 2 ulp, with the power of two built from the exponent bits.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // 1.5 · 2^23: adding it rounds to an integer, which then sits in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 = LN2_HI + LN2_LO; LN2_HI is 0.693359375, 9 significant bits, so n · LN2_HI is
    // exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let power = (shifted.to_bits().wrapping_sub(ROUND.to_bits()) as i32 + 127) << 23;
    (p * r * r + r + 1.0) * f32::from_bits(power as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative(a: f32, b: f64) -> f64 {
        ((f64::from(a) - b) / b).abs()
    }

    #[test]
    fn exp_is_within_two_ulp_over_the_range_used() {
        for i in 0..=100_000 {
            let x = -87.0 + 95.0 * (i as f32) / 100_000.0;
            let error = relative(exp(x), f64::from(x).exp());
            assert!(error < 2.5e-7, "exp({x}): relative error {error}");
        }
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn erf_is_within_its_published_bound_plus_f32_rounding() {
        for i in -40_000..=40_000 {
            let x = i as f32 / 8_000.0;
            let error = (f64::from(erf(x)) - libm_erf(f64::from(x))).abs();
            assert!(error < 1e-6, "erf({x}): error {error}");
        }
    }

    /// erf in f64 by its Taylor series (|x| ≤ 3) or continued fraction (beyond).
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        let value = if a <= 3.0 {
            let (mut term, mut total, mut n) = (a, a, 0.0);
            while term.abs() > 1e-17 {
                n += 1.0;
                term *= -a * a / n;
                total += term / (2.0 * n + 1.0);
            }
            total * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let mut fraction = 0.0;
            for k in (1..60).rev() {
                fraction = f64::from(k) / 2.0 / (a + fraction);
            }
            1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + fraction)
        };
        value.copysign(x)
    }

    #[test]
    fn gelu_matches_its_definition_at_known_points() {
        assert_eq!(gelu(0.0), 0.0);
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((gelu(-1.0) + 0.158_655_25).abs() < 1e-6);
        assert!((gelu(10.0) - 10.0).abs() < 1e-5);
        assert!(gelu(-10.0).abs() < 1e-5);
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_the_order() {
        let mut row: Vec<f32> = (0..37).map(|i| (i as f32 * 0.7).sin() * 30.0).collect();
        let before = row.clone();
        softmax(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        for i in 1..row.len() {
            assert_eq!(row[i] > row[i - 1], before[i] > before[i - 1]);
        }
    }

    #[test]
    fn layer_norm_gives_mean_zero_and_unit_variance_before_the_affine_part() {
        let mut row: Vec<f32> = (0..384).map(|i| (i as f32).sqrt() + 5.0).collect();
        layer_norm(&mut row, &[1.0; 384], &[0.0; 384], 1e-12);
        let mean = row.iter().sum::<f32>() / 384.0;
        let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 384.0;
        assert!(mean.abs() < 1e-5 && (variance - 1.0).abs() < 1e-4);
    }

    #[test]
    fn sums_keep_the_tail_beyond_the_last_full_lane() {
        let values: Vec<f32> = (1..=35).map(|i| i as f32).collect();
        assert_eq!(sum(&values), 630.0);
        assert_eq!(sum_of_squares(&[3.0, 4.0]), 25.0);
    }
}
