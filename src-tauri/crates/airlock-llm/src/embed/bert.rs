//! The BERT encoder of all-MiniLM-L6-v2 (embeddings, then `num_hidden_layers` post-norm
//! transformer layers; no pooler, no heads), its weights held as candle tensors read from
//! `model.safetensors`, its products computed by OpenBLAS ([`super::ops`]).
//!
//! Sequences are packed one after the other instead of padded to the longest: every
//! operation but attention works row by row, and attention keeps each sequence to itself, so
//! no computation is spent on padding and no attention mask is needed.

use candle_core::{Device, Result, Tensor};
use candle_nn::VarBuilder;
use serde::Deserialize;

use super::blas::Blas;
use super::ops::{AddNorm, Attention, Dense};

/// The parts of a Hugging Face `config.json` for BERT that the encoder uses.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    #[serde(default = "absolute")]
    pub position_embedding_type: String,
}

fn absolute() -> String {
    String::from("absolute")
}

impl Config {
    /// Why this encoder cannot run the model the config describes, if it cannot.
    pub fn unsupported(&self) -> Option<String> {
        if self.hidden_act != "gelu" {
            return Some(format!("hidden_act {:?} (only \"gelu\")", self.hidden_act));
        }
        if self.position_embedding_type != "absolute" {
            return Some(format!(
                "position_embedding_type {:?} (only \"absolute\")",
                self.position_embedding_type
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Some(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        None
    }
}

/// A linear layer: weight `[out, in]`, bias `[out]`.
struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn load(vb: &VarBuilder, inputs: usize, outputs: usize) -> Result<Self> {
        Ok(Self {
            weight: vb.get((outputs, inputs), "weight")?,
            bias: vb.get(outputs, "bias")?,
        })
    }

    fn forward(&self, blas: &Blas, x: &Tensor, gelu: bool) -> Result<Tensor> {
        x.apply_op3_no_bwd(&self.weight, &self.bias, &Dense { blas, gelu })
    }
}

/// A layer norm's weight and bias, stacked as `[2, hidden]`.
fn layer_norm(vb: &VarBuilder, hidden: usize) -> Result<Tensor> {
    Tensor::stack(&[vb.get(hidden, "weight")?, vb.get(hidden, "bias")?], 0)
}

struct Layer {
    /// Query, key and value in one product: `[3 · hidden, hidden]`.
    qkv: Linear,
    attention_output: Linear,
    attention_norm: Tensor,
    intermediate: Linear,
    output: Linear,
    output_norm: Tensor,
}

impl Layer {
    fn load(vb: &VarBuilder, config: &Config) -> Result<Self> {
        let (hidden, inner) = (config.hidden_size, config.intermediate_size);
        let attention = vb.pp("attention");
        let projections = attention.pp("self");
        let [query, key, value] = ["query", "key", "value"]
            .map(|name| Linear::load(&projections.pp(name), hidden, hidden));
        let (query, key, value) = (query?, key?, value?);
        Ok(Self {
            qkv: Linear {
                weight: Tensor::cat(&[&query.weight, &key.weight, &value.weight], 0)?,
                bias: Tensor::cat(&[&query.bias, &key.bias, &value.bias], 0)?,
            },
            attention_output: Linear::load(&attention.pp("output").pp("dense"), hidden, hidden)?,
            attention_norm: layer_norm(&attention.pp("output").pp("LayerNorm"), hidden)?,
            intermediate: Linear::load(&vb.pp("intermediate").pp("dense"), hidden, inner)?,
            output: Linear::load(&vb.pp("output").pp("dense"), inner, hidden)?,
            output_norm: layer_norm(&vb.pp("output").pp("LayerNorm"), hidden)?,
        })
    }
}

/// The encoder: token ids in, one hidden state per token out.
pub(super) struct Bert {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    /// Token type 0's embedding (every token of a single-sentence input), `[1, hidden]`.
    token_type_embedding: Tensor,
    embeddings_norm: Tensor,
    layers: Vec<Layer>,
    heads: usize,
    eps: f32,
    device: Device,
}

impl Bert {
    /// The weights under `vb` (`embeddings.*`, `encoder.layer.N.*`), shaped by `config`.
    pub fn load(vb: &VarBuilder, config: &Config) -> Result<Self> {
        let hidden = config.hidden_size;
        let embeddings = vb.pp("embeddings");
        let layers = vb.pp("encoder").pp("layer");
        Ok(Self {
            word_embeddings: embeddings
                .get((config.vocab_size, hidden), "word_embeddings.weight")?,
            position_embeddings: embeddings.get(
                (config.max_position_embeddings, hidden),
                "position_embeddings.weight",
            )?,
            token_type_embedding: embeddings
                .get(
                    (config.type_vocab_size, hidden),
                    "token_type_embeddings.weight",
                )?
                .narrow(0, 0, 1)?,
            embeddings_norm: layer_norm(&embeddings.pp("LayerNorm"), hidden)?,
            layers: (0..config.num_hidden_layers)
                .map(|index| Layer::load(&layers.pp(index), config))
                .collect::<Result<_>>()?,
            heads: config.num_attention_heads,
            eps: config.layer_norm_eps as f32,
            device: vb.device().clone(),
        })
    }

    /// The last hidden states of `sequences` (token ids, each at most
    /// `max_position_embeddings` long), packed: `[total tokens, hidden]`, sequence after
    /// sequence.
    pub fn forward(&self, blas: &Blas, sequences: &[&[u32]]) -> Result<Tensor> {
        let lens: Vec<usize> = sequences.iter().map(|ids| ids.len()).collect();
        let ids: Vec<u32> = sequences.concat();
        let positions: Vec<u32> = lens.iter().flat_map(|&len| 0..len as u32).collect();
        let rows = ids.len();
        let ids = Tensor::from_vec(ids, rows, &self.device)?;
        let positions = Tensor::from_vec(positions, rows, &self.device)?;

        let words = self.word_embeddings.index_select(&ids, 0)?;
        let places = self
            .position_embeddings
            .index_select(&positions, 0)?
            .broadcast_add(&self.token_type_embedding)?;
        let norm = AddNorm { eps: self.eps };
        let mut x = words.apply_op3_no_bwd(&places, &self.embeddings_norm, &norm)?;

        let attention = Attention {
            blas,
            lens: &lens,
            heads: self.heads,
        };
        for layer in &self.layers {
            let qkv = layer.qkv.forward(blas, &x, false)?;
            let context = qkv.apply_op1_no_bwd(&attention)?;
            let attended = layer.attention_output.forward(blas, &context, false)?;
            x = attended.apply_op3_no_bwd(&x, &layer.attention_norm, &norm)?;
            let inner = layer.intermediate.forward(blas, &x, true)?;
            let output = layer.output.forward(blas, &inner, false)?;
            x = output.apply_op3_no_bwd(&x, &layer.output_norm, &norm)?;
        }
        Ok(x)
    }
}
