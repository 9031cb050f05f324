//! Sentence vectors from token vectors: mean pooling over the real tokens, then L2
//! normalisation (sentence-transformers' `Pooling(mean)` + `Normalize`).

/// Splits `hidden` (sequences packed one after the other: `lens[i]` token vectors of `dim`
/// values each, row-major) into one unit vector per sequence: the mean of its token vectors
/// divided by its L2 norm.
pub(super) fn mean_pool_normalized(hidden: &[f32], dim: usize, lens: &[usize]) -> Vec<Vec<f32>> {
    debug_assert_eq!(hidden.len(), lens.iter().sum::<usize>() * dim);
    let mut rows = hidden.chunks_exact(dim.max(1));
    lens.iter()
        .map(|&len| {
            let mut sum = vec![0.0f32; dim];
            for token in rows.by_ref().take(len) {
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
    fn each_sequence_averages_its_own_tokens_only() {
        // two sequences, 2 dimensions: two tokens, then one
        let hidden = [
            1.0, 0.0, 3.0, 0.0, // seq 0: tokens (1,0) (3,0)
            0.0, 2.0, // seq 1: token (0,2)
        ];
        let vectors = mean_pool_normalized(&hidden, 2, &[2, 1]);
        assert_eq!(vectors, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    }

    #[test]
    fn vectors_have_unit_length_and_keep_their_direction() {
        let hidden = [3.0, 4.0, 3.0, 4.0];
        let vectors = mean_pool_normalized(&hidden, 2, &[2]);
        assert_eq!(vectors, vec![vec![0.6, 0.8]]);
    }

    #[test]
    fn a_zero_vector_stays_zero_instead_of_becoming_nan() {
        let vectors = mean_pool_normalized(&[0.0, 0.0], 2, &[1]);
        assert_eq!(vectors, vec![vec![0.0, 0.0]]);
    }
}
