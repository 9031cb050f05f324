//! Sentence vectors from token vectors: mean pooling over the real tokens, then L2
//! normalisation (sentence-transformers' `Pooling(mean)` + `Normalize`).

/// Splits `hidden` (`lens.len()` sequences × `seq_len` tokens × `dim` values, row-major,
/// padding on the right) into one unit vector per sequence: the mean of its first `lens[i]`
/// token vectors divided by its L2 norm. Padding tokens never count.
pub(super) fn mean_pool_normalized(
    hidden: &[f32],
    seq_len: usize,
    dim: usize,
    lens: &[usize],
) -> Vec<Vec<f32>> {
    debug_assert_eq!(hidden.len(), lens.len() * seq_len * dim);
    hidden
        .chunks_exact(seq_len * dim)
        .zip(lens)
        .map(|(sequence, &len)| {
            let mut sum = vec![0.0f32; dim];
            for token in sequence.chunks_exact(dim).take(len) {
                for (acc, value) in sum.iter_mut().zip(token) {
                    *acc += value;
                }
            }
            // Dividing by the token count before normalising changes nothing but the
            // rounding; it keeps the arithmetic the same as sentence-transformers'.
            let count = len.max(1) as f32;
            sum.iter_mut().for_each(|value| *value /= count);
            normalize(&mut sum);
            sum
        })
        .collect()
}

/// Scales `vector` to unit length (a zero vector stays zero), as `torch.nn.functional.normalize`
/// does with its `eps` of 1e-12.
fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
    vector.iter_mut().for_each(|value| *value /= norm);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_tokens_do_not_count() {
        // two sequences of up to 3 tokens, 2 dimensions; the second has one real token
        let hidden = [
            1.0, 0.0, 3.0, 0.0, 100.0, 100.0, // seq 0: tokens (1,0) (3,0), pad
            0.0, 2.0, 50.0, 50.0, 50.0, 50.0, // seq 1: token (0,2), pad, pad
        ];
        let vectors = mean_pool_normalized(&hidden, 3, 2, &[2, 1]);
        assert_eq!(vectors, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    }

    #[test]
    fn vectors_have_unit_length_and_keep_their_direction() {
        let hidden = [3.0, 4.0, 3.0, 4.0];
        let vectors = mean_pool_normalized(&hidden, 2, 2, &[2]);
        assert_eq!(vectors, vec![vec![0.6, 0.8]]);
    }

    #[test]
    fn a_zero_vector_stays_zero_instead_of_becoming_nan() {
        let vectors = mean_pool_normalized(&[0.0, 0.0], 1, 2, &[1]);
        assert_eq!(vectors, vec![vec![0.0, 0.0]]);
    }
}
