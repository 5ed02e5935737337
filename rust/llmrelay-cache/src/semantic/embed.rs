//! A sentence-embedding model run in this process on CPU: a BERT encoder (all-MiniLM-L6-v2 by
//! default) read from `model.safetensors`, its `tokenizer.json`, and mean pooling over the
//! tokens followed by L2 normalisation — what sentence-transformers computes for that model
//! (`modules.json`: Transformer, Pooling with `pooling_mode_mean_tokens`, Normalize).
//!
//! One text at a time: a cache lookup embeds one prompt, so there is no padding and no
//! attention mask. A text longer than the model's `max_seq_length` (256 tokens for
//! all-MiniLM-L6-v2, from `sentence_bert_config.json`) is cut there, as sentence-transformers
//! cuts it.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use serde::Deserialize;
use tokenizers::{Tokenizer, TruncationParams};

use crate::CacheError;

/// The model's `config.json` (the fields a BERT encoder needs).
#[derive(Debug, Deserialize)]
struct BertConfig {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    type_vocab_size: usize,
    #[serde(default = "default_eps")]
    layer_norm_eps: f64,
    #[serde(default)]
    hidden_act: Option<String>,
}

const fn default_type_vocab() -> usize {
    2
}

const fn default_eps() -> f64 {
    1e-12
}

/// sentence-transformers' `sentence_bert_config.json`.
#[derive(Debug, Deserialize)]
struct SentenceConfig {
    #[serde(default)]
    max_seq_length: Option<usize>,
}

/// Pooling as `1_Pooling/config.json` sets it; only mean pooling is supported.
#[derive(Debug, Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
}

/// A dense layer kept as `[in, out]` (the checkpoint's `[out, in]` transposed once at load):
/// a few tokens times a contiguous right-hand side.
struct Dense {
    weight_t: Tensor,
    bias: Tensor,
}

impl Dense {
    fn load(vb: &VarBuilder<'_>, inputs: usize, outputs: usize) -> candle_core::Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?;
        Ok(Self {
            weight_t: weight.t()?.contiguous()?,
            bias: vb.get(outputs, "bias")?,
        })
    }

    /// Several layers reading the same input as one (query, key and value).
    fn fused(parts: &[Self]) -> candle_core::Result<Self> {
        let weights: Vec<&Tensor> = parts.iter().map(|p| &p.weight_t).collect();
        let biases: Vec<&Tensor> = parts.iter().map(|p| &p.bias).collect();
        Ok(Self {
            weight_t: Tensor::cat(&weights, 1)?.contiguous()?,
            bias: Tensor::cat(&biases, 0)?,
        })
    }

    /// `x` is `[tokens, in]`.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

struct Layer {
    /// Query, key and value side by side.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    output_norm: LayerNorm,
}

/// A loaded sentence-embedding model. `Send + Sync`: lookups on several threads share it.
pub struct Embedder {
    tokenizer: Tokenizer,
    words: Embedding,
    positions: Embedding,
    token_types: Embedding,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_size: usize,
    dims: usize,
    max_tokens: usize,
    device: Device,
    dir: PathBuf,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("dir", &self.dir)
            .field("dims", &self.dims)
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

fn model_error(dir: &Path, what: impl std::fmt::Display) -> CacheError {
    CacheError::Config(format!(
        "local-semantic: cannot load the embedding model in {}: {what}",
        dir.display()
    ))
}

fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<T, CacheError> {
    let path = dir.join(name);
    let text = std::fs::read(&path).map_err(|e| model_error(dir, format!("{name}: {e}")))?;
    serde_json::from_slice(&text).map_err(|e| model_error(dir, format!("{name}: {e}")))
}

impl Embedder {
    /// Load the model in `dir` (`config.json`, `model.safetensors`, `tokenizer.json`, and when
    /// present `sentence_bert_config.json` and `1_Pooling/config.json`).
    ///
    /// # Errors
    /// `Config` naming the file that is missing or does not parse, or a model this code does
    /// not run (not BERT-shaped, or pooled other than by the mean).
    pub fn load(dir: &Path) -> Result<Self, CacheError> {
        let config: BertConfig = read_json(dir, "config.json")?;
        if config
            .hidden_act
            .as_deref()
            .is_some_and(|act| act != "gelu")
        {
            return Err(model_error(dir, "only hidden_act \"gelu\" is supported"));
        }
        if config.num_attention_heads == 0 || config.hidden_size % config.num_attention_heads != 0 {
            return Err(model_error(
                dir,
                "hidden_size is not a multiple of num_attention_heads",
            ));
        }
        if dir.join("1_Pooling/config.json").exists() {
            let pooling: PoolingConfig = read_json(dir, "1_Pooling/config.json")?;
            if !pooling.pooling_mode_mean_tokens
                || pooling.pooling_mode_cls_token
                || pooling.pooling_mode_max_tokens
            {
                return Err(model_error(dir, "only mean pooling is supported"));
            }
        }
        let max_tokens = if dir.join("sentence_bert_config.json").exists() {
            read_json::<SentenceConfig>(dir, "sentence_bert_config.json")?.max_seq_length
        } else {
            None
        }
        .unwrap_or(config.max_position_embeddings)
        .min(config.max_position_embeddings);

        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| model_error(dir, format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..TruncationParams::default()
            }))
            .map_err(|e| model_error(dir, format!("tokenizer.json: {e}")))?;

        let weights = std::fs::read(dir.join("model.safetensors"))
            .map_err(|e| model_error(dir, format!("model.safetensors: {e}")))?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| model_error(dir, format!("model.safetensors: {e}")))?;
        // Weights exported from `BertModel` have no prefix; from `BertForMaskedLM`, `bert.`.
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
            vb
        } else {
            vb.pp("bert")
        };
        Self::build(&config, &vb, tokenizer, max_tokens, device, dir)
            .map_err(|e| model_error(dir, format!("model.safetensors: {e}")))
    }

    fn build(
        config: &BertConfig,
        vb: &VarBuilder<'_>,
        tokenizer: Tokenizer,
        max_tokens: usize,
        device: Device,
        dir: &Path,
    ) -> candle_core::Result<Self> {
        let hidden = config.hidden_size;
        let eps = config.layer_norm_eps;
        let emb = vb.pp("embeddings");
        let words = candle_nn::embedding(config.vocab_size, hidden, emb.pp("word_embeddings"))?;
        let positions = candle_nn::embedding(
            config.max_position_embeddings,
            hidden,
            emb.pp("position_embeddings"),
        )?;
        let token_types = candle_nn::embedding(
            config.type_vocab_size,
            hidden,
            emb.pp("token_type_embeddings"),
        )?;
        let embeddings_norm = candle_nn::layer_norm(hidden, eps, emb.pp("LayerNorm"))?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for at in 0..config.num_hidden_layers {
            let vb = vb.pp(format!("encoder.layer.{at}"));
            let attention = vb.pp("attention");
            let qkv = Dense::fused(&[
                Dense::load(&attention.pp("self.query"), hidden, hidden)?,
                Dense::load(&attention.pp("self.key"), hidden, hidden)?,
                Dense::load(&attention.pp("self.value"), hidden, hidden)?,
            ])?;
            layers.push(Layer {
                qkv,
                attention_out: Dense::load(&attention.pp("output.dense"), hidden, hidden)?,
                attention_norm: candle_nn::layer_norm(
                    hidden,
                    eps,
                    attention.pp("output.LayerNorm"),
                )?,
                intermediate: Dense::load(
                    &vb.pp("intermediate.dense"),
                    hidden,
                    config.intermediate_size,
                )?,
                output: Dense::load(&vb.pp("output.dense"), config.intermediate_size, hidden)?,
                output_norm: candle_nn::layer_norm(hidden, eps, vb.pp("output.LayerNorm"))?,
            });
        }
        Ok(Self {
            tokenizer,
            words,
            positions,
            token_types,
            embeddings_norm,
            layers,
            heads: config.num_attention_heads,
            head_size: hidden / config.num_attention_heads,
            dims: hidden,
            max_tokens,
            device,
            dir: dir.to_path_buf(),
        })
    }

    /// Length of the vectors [`Embedder::embed`] returns.
    #[must_use]
    pub const fn dims(&self) -> usize {
        self.dims
    }

    /// The directory the model was loaded from.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Tokens the model reads at most (longer texts are cut).
    #[must_use]
    pub const fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The unit-length embedding of `text`. CPU-bound (a few milliseconds for a short
    /// prompt): callers on an async runtime run it on the blocking pool.
    ///
    /// # Errors
    /// `Backend` when the text cannot be tokenized or the model fails.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, CacheError> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| CacheError::Backend(format!("local-semantic: tokenizer: {e}")))?;
        self.forward(encoding.get_ids())
            .map_err(|e| CacheError::Backend(format!("local-semantic: model: {e}")))
    }

    fn forward(&self, ids: &[u32]) -> candle_core::Result<Vec<f32>> {
        let tokens = ids.len();
        let ids = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        let positions = Tensor::arange(0u32, tokens as u32, &self.device)?.unsqueeze(0)?;
        let types = Tensor::zeros((1, tokens), DType::U32, &self.device)?;
        let x = (self.words.forward(&ids)?
            + self.positions.forward(&positions)?
            + self.token_types.forward(&types)?)?;
        // Hidden states as [tokens, hidden] from here on.
        let mut x = self.embeddings_norm.forward(&x)?.squeeze(0)?;
        let scale = 1.0 / (self.head_size as f64).sqrt();
        let (dims, heads, head_size) = (self.dims, self.heads, self.head_size);
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&x)?;
            // [tokens, hidden] → [heads, tokens, head_size]
            let split = |at: usize| -> candle_core::Result<Tensor> {
                qkv.narrow(1, at * dims, dims)?
                    .reshape((tokens, heads, head_size))?
                    .transpose(0, 1)?
                    .contiguous()
            };
            let (q, k, v) = (split(0)?, split(1)?, split(2)?);
            let scores = (q.matmul(&k.t()?)? * scale)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let context = probs
                .matmul(&v)?
                .transpose(0, 1)?
                .contiguous()?
                .reshape((tokens, dims))?;
            let attended = layer
                .attention_norm
                .forward(&(layer.attention_out.forward(&context)? + &x)?)?;
            let inner = layer.intermediate.forward(&attended)?.gelu_erf()?;
            x = layer
                .output_norm
                .forward(&(layer.output.forward(&inner)? + &attended)?)?;
        }
        // Mean over the tokens (all of them count: one text, no padding), then unit length.
        let pooled = (x.sum(0)? / tokens as f64)?;
        let mut vector = pooled.to_vec1::<f32>()?;
        normalize(&mut vector);
        Ok(vector)
    }
}

/// Scale `vector` to unit length (a zero vector stays zero).
pub fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in vector {
            *x /= norm;
        }
    }
}
