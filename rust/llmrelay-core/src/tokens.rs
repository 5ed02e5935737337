//! Token counting that reproduces tiktoken's encodings and LiteLLM's `token_counter`.
//!
//! `encode`, `decode` and `count_text` are plain tiktoken. `count_messages` and
//! `count_text_for_model` reproduce `litellm.token_counter` (LiteLLM 1.104) rule for rule,
//! including its quirks, because callers compare our numbers with LiteLLM's: the reference
//! values live in `tests/fixtures/tokens/corpus.json`, produced by
//! `scripts/gen_token_fixtures.py`.

use serde_json::Value;
use tiktoken_rs::CoreBPE;

mod images;
mod messages;
mod python;
mod tools;

use images::*;
use messages::*;
use python::*;
use tools::*;

/// A tiktoken byte-pair encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, GPT-5 and the o-series.
    O200kBase,
    /// GPT-4, GPT-3.5 and LiteLLM's fallback for every model it does not know.
    Cl100kBase,
}

impl Encoding {
    /// tiktoken's name for the encoding.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::O200kBase => "o200k_base",
            Self::Cl100kBase => "cl100k_base",
        }
    }

    /// The encoding with tiktoken's name `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "o200k_base" => Some(Self::O200kBase),
            "cl100k_base" => Some(Self::Cl100kBase),
            _ => None,
        }
    }

    /// The BPE tables, parsed on first use (about 100 ms) and shared afterwards.
    fn bpe(self) -> &'static CoreBPE {
        match self {
            Self::O200kBase => tiktoken_rs::o200k_base_singleton(),
            Self::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        }
    }
}

/// Why tokens could not be decoded or counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// A token id outside the encoding's vocabulary.
    #[error("invalid token for decoding: {token} is not in the {encoding} vocabulary")]
    UnknownToken { token: u32, encoding: &'static str },
    /// A high-detail image given by http(s) URL: its size is needed and remote images are not
    /// fetched.
    #[error(
        "cannot count the tokens of the high-detail image at {url}: its size is needed and remote \
         images are not fetched; send the image as a base64 data URL, or set \
         use_default_image_token_count or default_token_count"
    )]
    ImageFetch { url: String },
    /// An image whose bytes could not be read (bad base64, truncated header, zero side).
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// A message, content block, tool or tool choice that LiteLLM rejects.
    #[error("{0}")]
    InvalidInput(String),
}

/// Tokens `encoding` gives `text`; text that spells a special token such as `<|endoftext|>` is
/// encoded as ordinary text (tiktoken's `disallowed_special=()`).
#[must_use]
pub fn encode(encoding: Encoding, text: &str) -> Vec<u32> {
    encoding.bpe().encode_ordinary(text)
}

/// The text of `tokens`; bytes that are not valid UTF-8 become U+FFFD, as tiktoken's
/// `errors="replace"` does.
///
/// # Errors
/// [`TokenError::UnknownToken`] when a token is not in the vocabulary.
pub fn decode(encoding: Encoding, tokens: &[u32]) -> Result<String, TokenError> {
    let bytes = encoding
        .bpe()
        .decode_bytes(tokens)
        .map_err(|error| TokenError::UnknownToken {
            token: error.token,
            encoding: encoding.name(),
        })?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    })
}

/// How many tokens `encode(encoding, text)` returns.
#[must_use]
pub fn count_text(encoding: Encoding, text: &str) -> usize {
    // tiktoken-rs has no allocation-free counter; its `count_ordinary` is `encode_ordinary().len()`.
    encoding.bpe().count_ordinary(text)
}

/// OpenAI chat models that LiteLLM counts with `o200k_base`: the members of its
/// `open_ai_chat_completion_models` and `azure_llms` for which it picks that encoding. Every other
/// name, including provider-prefixed ones such as `openai/gpt-4o`, is counted with `cl100k_base`.
/// Sorted; printed by `scripts/gen_token_fixtures.py --model-table` and checked by the tests.
pub(crate) const O200K_MODELS: &[&str] = &[
    "gpt-4.1",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano",
    "gpt-4.1-nano-2025-04-14",
    "gpt-4o",
    "gpt-4o-2024-05-13",
    "gpt-4o-2024-08-06",
    "gpt-4o-2024-11-20",
    "gpt-4o-audio-preview-2024-12-17",
    "gpt-4o-audio-preview-2025-06-03",
    "gpt-4o-mini",
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-mini-audio-preview-2024-12-17",
    "gpt-4o-mini-realtime-preview-2024-12-17",
    "gpt-4o-mini-search-preview",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-03-20",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-mini-tts",
    "gpt-4o-mini-tts-2025-12-15",
    "gpt-4o-search-preview",
    "gpt-4o-transcribe",
    "gpt-4o-transcribe-diarize",
    "gpt-5",
    "gpt-5-2025-08-07",
    "gpt-5-chat",
    "gpt-5-chat-latest",
    "gpt-5-codex",
    "gpt-5-mini",
    "gpt-5-mini-2025-08-07",
    "gpt-5-nano",
    "gpt-5-nano-2025-08-07",
    "gpt-5-pro",
    "gpt-5-pro-2025-10-06",
    "gpt-5-search-api",
    "gpt-5-search-api-2025-10-14",
    "gpt-5.1",
    "gpt-5.1-2025-11-13",
    "gpt-5.1-chat-latest",
    "gpt-5.1-codex",
    "gpt-5.1-codex-max",
    "gpt-5.1-codex-mini",
    "gpt-5.2",
    "gpt-5.2-2025-12-11",
    "gpt-5.2-chat-latest",
    "gpt-5.2-codex",
    "gpt-5.2-pro",
    "gpt-5.2-pro-2025-12-11",
    "gpt-5.3-chat-latest",
    "gpt-5.3-codex",
    "gpt-5.4",
    "gpt-5.4-2026-03-05",
    "gpt-5.4-mini",
    "gpt-5.4-mini-2026-03-17",
    "gpt-5.4-nano",
    "gpt-5.4-nano-2026-03-17",
    "gpt-5.4-pro",
    "gpt-5.4-pro-2026-03-05",
    "gpt-5.5",
    "gpt-5.5-2026-04-23",
    "gpt-5.5-cyber",
    "gpt-5.5-pro",
    "gpt-5.5-pro-2026-04-23",
    "gpt-5.6",
    "gpt-5.6-cyber",
    "gpt-5.6-luna",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "o1",
    "o1-2024-12-17",
    "o1-pro",
    "o1-pro-2025-03-19",
    "o3",
    "o3-2025-04-16",
    "o3-deep-research",
    "o3-mini",
    "o3-mini-2025-01-31",
    "o3-pro",
    "o3-pro-2025-06-10",
    "o4-mini",
    "o4-mini-2025-04-16",
    "o4-mini-deep-research",
];

/// The encoding LiteLLM's `token_counter` uses for `model`.
///
/// LiteLLM looks the name up as given: a name it does not list as an OpenAI chat model, which
/// includes `openai/gpt-4o`, falls back to `cl100k_base`.
#[must_use]
pub fn encoding_for_model(model: &str) -> Encoding {
    if O200K_MODELS.binary_search(&model).is_ok() {
        Encoding::O200kBase
    } else {
        Encoding::Cl100kBase
    }
}

/// Options of [`count_messages`], named after `litellm.token_counter`'s arguments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountOptions {
    /// Count the messages only: no reply priming, no tools, no tool choice.
    pub count_response_tokens: bool,
    /// Count every image as 250 tokens without reading its size.
    pub use_default_image_token_count: bool,
    /// What a content list that cannot be counted counts as; `None` makes it an error.
    pub default_token_count: Option<usize>,
}

/// `litellm.token_counter(model=model, text=text)`: `text` counted the way LiteLLM counts every
/// string, in chunks of 1,024 characters, sampled beyond 4,000,000 characters.
#[must_use]
pub fn count_text_for_model(model: &str, text: &str) -> usize {
    Counter::new(encoding_for_model(model)).count(text)
}

/// `litellm.token_counter(model=model, messages=messages, tools=tools, tool_choice=tool_choice,
/// ...)`.
///
/// # Errors
/// [`TokenError::InvalidInput`] for what LiteLLM rejects (a message that is not an object,
/// malformed tool calls, an unknown content block, a malformed tool definition or tool choice),
/// [`TokenError::InvalidImage`] for unreadable base64 images, and [`TokenError::ImageFetch`] for
/// a high-detail image given by http(s) URL. Errors inside a content list give
/// `default_token_count` instead when it is set.
pub fn count_messages(
    model: &str,
    messages: &[Value],
    tools: Option<&[Value]>,
    tool_choice: Option<&Value>,
    options: &CountOptions,
) -> Result<usize, TokenError> {
    let counting = MessageCounting {
        counter: Counter::new(encoding_for_model(model)),
        options: *options,
    };
    let mut tokens = 0;
    for message in messages {
        tokens += counting.count_message(message)?;
    }
    if !options.count_response_tokens {
        let includes_system_message = messages
            .iter()
            .any(|message| message.get("role").and_then(Value::as_str) == Some("system"));
        tokens += counting.count_extra(tools, tool_choice, includes_system_message)?;
    }
    Ok(tokens)
}

/// Framing tokens around each message (start marker, role, separator).
pub(crate) const TOKENS_PER_MESSAGE: usize = 3;
/// A `name` costs one token on top of its text.
pub(crate) const TOKENS_PER_NAME: usize = 1;
/// The assistant header the model writes its reply after.
pub(crate) const REPLY_PRIMING_TOKENS: usize = 3;
/// The framing of the tool definitions block.
pub(crate) const TOOL_DEFINITIONS_TOKENS: usize = 9;
/// With a system message present, tool definitions reuse part of its framing.
pub(crate) const SYSTEM_MESSAGE_WITH_TOOLS_DISCOUNT: usize = 4;
/// `tool_choice: "none"`.
pub(crate) const TOOL_CHOICE_NONE_TOKENS: usize = 1;
/// A forced function, on top of its name.
pub(crate) const TOOL_CHOICE_FUNCTION_TOKENS: usize = 7;

/// LiteLLM counts a string in chunks of this many characters (code points), summing the chunks:
/// a chunk boundary can split a token, so long texts count differently from one `encode`.
pub(crate) const CHUNK_CHARS: usize = 1024;
/// Beyond this many characters LiteLLM counts evenly spaced samples and scales up.
pub(crate) const MAX_EXACT_CHARS: usize = 4_000_000;
pub(crate) const EXTRAPOLATION_SAMPLES: usize = 16;

/// LiteLLM's count of one string.
#[derive(Clone, Copy)]
pub(crate) struct Counter {
    bpe: &'static CoreBPE,
}

impl Counter {
    fn new(encoding: Encoding) -> Self {
        Self {
            bpe: encoding.bpe(),
        }
    }

    fn count(self, text: &str) -> usize {
        // A byte length within the limit bounds the character count too.
        if text.len() <= MAX_EXACT_CHARS {
            return self.count_in_chunks(text);
        }
        let char_count = text.chars().count();
        if char_count <= MAX_EXACT_CHARS {
            return self.count_in_chunks(text);
        }
        self.extrapolate(text, char_count)
    }

    fn count_in_chunks(self, text: &str) -> usize {
        if text.len() <= CHUNK_CHARS {
            return self.bpe.count_ordinary(text);
        }
        let mut tokens = 0;
        let mut chunk_start = 0;
        for (chars_seen, (index, _)) in text.char_indices().enumerate() {
            if chars_seen > 0 && chars_seen % CHUNK_CHARS == 0 {
                tokens += self.bpe.count_ordinary(&text[chunk_start..index]);
                chunk_start = index;
            }
        }
        tokens + self.bpe.count_ordinary(&text[chunk_start..])
    }

    fn extrapolate(self, text: &str, char_count: usize) -> usize {
        let sample_count = EXTRAPOLATION_SAMPLES.min(MAX_EXACT_CHARS);
        let sample_length = MAX_EXACT_CHARS / sample_count;
        let last_start = char_count - sample_length;
        let starts: Vec<usize> = (0..sample_count)
            .map(|index| last_start * index / (sample_count - 1).max(1))
            .collect();
        let mut char_offsets: Vec<usize> = starts
            .iter()
            .flat_map(|&start| [start, start + sample_length])
            .collect();
        char_offsets.sort_unstable();
        char_offsets.dedup();
        let byte_offsets = byte_offsets_of_chars(text, &char_offsets);
        let byte_offset = |char_offset: usize| {
            char_offsets
                .binary_search(&char_offset)
                .ok()
                .and_then(|position| byte_offsets.get(position).copied())
                .unwrap_or(text.len())
        };
        let sampled_tokens: usize = starts
            .iter()
            .map(|&start| {
                let sample = &text[byte_offset(start)..byte_offset(start + sample_length)];
                self.count_in_chunks(sample)
            })
            .sum();
        scale_rounded(sampled_tokens, char_count, sample_length * sample_count)
    }
}

/// `round(tokens * total / sampled)` with Python's float division and round-half-to-even.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "LiteLLM computes this in floating point; the operands stay far below 2^53"
)]
pub(crate) fn scale_rounded(tokens: usize, total: usize, sampled: usize) -> usize {
    let scaled = (tokens as f64 * total as f64) / sampled as f64;
    scaled.round_ties_even() as usize
}

/// The byte offset of each character offset in `sorted_char_offsets` (the text's length for an
/// offset at or past its end).
pub(crate) fn byte_offsets_of_chars(text: &str, sorted_char_offsets: &[usize]) -> Vec<usize> {
    let mut byte_offsets = Vec::with_capacity(sorted_char_offsets.len());
    let mut wanted = sorted_char_offsets.iter().peekable();
    for (char_offset, (byte_offset, _)) in text.char_indices().enumerate() {
        while wanted.next_if(|&&offset| offset == char_offset).is_some() {
            byte_offsets.push(byte_offset);
        }
        if wanted.peek().is_none() {
            break;
        }
    }
    byte_offsets.resize(sorted_char_offsets.len(), text.len());
    byte_offsets
}

#[cfg(test)]
mod tests {
    use std::error::Error;
    use std::time::Instant;

    use serde_json::{Value, json};

    use super::{
        CountOptions, Encoding, O200K_MODELS, TokenError, count_messages, count_text,
        count_text_for_model, decode, encode, encoding_for_model, python_b64decode, python_str,
        write_python_json,
    };

    type TestResult = Result<(), Box<dyn Error>>;

    /// Produced by `scripts/gen_token_fixtures.py` from tiktoken and `litellm.token_counter`.
    fn corpus() -> Result<Value, Box<dyn Error>> {
        Ok(serde_json::from_str(include_str!(
            "../tests/fixtures/tokens/corpus.json"
        ))?)
    }

    fn cases<'a>(corpus: &'a Value, key: &str) -> Result<&'a Vec<Value>, Box<dyn Error>> {
        Ok(corpus
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("corpus has no {key}"))?)
    }

    fn text<'a>(case: &'a Value, key: &str) -> Result<&'a str, Box<dyn Error>> {
        Ok(case
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("case has no string {key}: {case}"))?)
    }

    fn token_ids(value: Option<&Value>) -> Result<Vec<u32>, Box<dyn Error>> {
        let ids = value.and_then(Value::as_array).ok_or("missing token ids")?;
        ids.iter()
            .map(|id| {
                Ok(u32::try_from(
                    id.as_u64().ok_or("token id is not a number")?,
                )?)
            })
            .collect()
    }

    fn expected_count(value: Option<&Value>) -> Result<usize, Box<dyn Error>> {
        Ok(usize::try_from(
            value.and_then(Value::as_u64).ok_or("missing count")?,
        )?)
    }

    const ENCODINGS: [Encoding; 2] = [Encoding::Cl100kBase, Encoding::O200kBase];

    #[test]
    fn encode_matches_tiktoken() -> TestResult {
        let corpus = corpus()?;
        let text_cases = cases(&corpus, "text_cases")?;
        assert!(text_cases.len() >= 60);
        for case in text_cases {
            let name = text(case, "name")?;
            let input = text(case, "text")?;
            for encoding in ENCODINGS {
                let expected = token_ids(case.get(encoding.name()))?;
                let tokens = encode(encoding, input);
                assert_eq!(tokens, expected, "{name} with {}", encoding.name());
                assert_eq!(count_text(encoding, input), expected.len(), "{name}");
                assert_eq!(decode(encoding, &tokens)?, input, "{name} round trip");
            }
        }
        Ok(())
    }

    #[test]
    fn text_counts_match_litellm() -> TestResult {
        let corpus = corpus()?;
        for case in cases(&corpus, "text_cases")? {
            let name = text(case, "name")?;
            let input = text(case, "text")?;
            let counts = case.get("litellm_text_count").and_then(Value::as_object);
            for (model, expected) in counts.ok_or("missing litellm_text_count")? {
                let count = count_text_for_model(model, input);
                assert_eq!(count, expected_count(Some(expected))?, "{name} for {model}");
            }
        }
        Ok(())
    }

    fn check_long_text_cases(sampled: bool) -> TestResult {
        let corpus = corpus()?;
        for case in cases(&corpus, "long_text_cases")? {
            let chars = expected_count(case.get("chars"))?;
            if (chars > super::MAX_EXACT_CHARS) != sampled {
                continue;
            }
            let name = text(case, "name")?;
            let input = text(case, "unit")?.repeat(expected_count(case.get("repeat"))?);
            assert_eq!(input.chars().count(), chars);
            let counts = case.get("litellm_text_count").and_then(Value::as_object);
            for (model, expected) in counts.ok_or("missing litellm_text_count")? {
                let count = count_text_for_model(model, &input);
                assert_eq!(count, expected_count(Some(expected))?, "{name} for {model}");
            }
        }
        Ok(())
    }

    #[test]
    fn long_text_counts_match_litellm() -> TestResult {
        check_long_text_cases(false)
    }

    /// Past 4,000,000 characters LiteLLM counts 16 samples and scales up.
    #[test]
    #[cfg_attr(
        debug_assertions,
        ignore = "counts 4 MB of text, 10 s unoptimised: run with --release"
    )]
    fn sampled_text_counts_match_litellm() -> TestResult {
        check_long_text_cases(true)
    }

    #[test]
    fn decode_matches_tiktoken() -> TestResult {
        let corpus = corpus()?;
        for case in cases(&corpus, "decode_cases")? {
            let encoding =
                Encoding::from_name(text(case, "encoding")?).ok_or("unknown encoding")?;
            let tokens = token_ids(case.get("tokens"))?;
            let decoded = decode(encoding, &tokens);
            if case.get("error").is_some() {
                assert!(
                    matches!(decoded, Err(TokenError::UnknownToken { .. })),
                    "{case}"
                );
            } else {
                assert_eq!(decoded?, text(case, "text")?, "{case}");
            }
        }
        Ok(())
    }

    #[test]
    fn encoding_choice_matches_litellm() -> TestResult {
        let corpus = corpus()?;
        let table: Vec<&str> = cases(&corpus, "o200k_models")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            O200K_MODELS, table,
            "regenerate O200K_MODELS with gen_token_fixtures.py --model-table"
        );
        assert!(O200K_MODELS.windows(2).all(|pair| pair[0] < pair[1]));
        let choices = corpus.get("encoding_for_model").and_then(Value::as_object);
        for (model, expected) in choices.ok_or("missing encoding_for_model")? {
            let expected = expected.as_str().and_then(Encoding::from_name);
            assert_eq!(Some(encoding_for_model(model)), expected, "{model}");
        }
        Ok(())
    }

    #[test]
    fn message_counts_match_litellm() -> TestResult {
        let corpus = corpus()?;
        let models = cases(&corpus, "message_models")?;
        let message_cases = cases(&corpus, "message_cases")?;
        assert!(message_cases.len() >= 25);
        for case in message_cases {
            let name = text(case, "name")?;
            let messages = case
                .get("messages")
                .and_then(Value::as_array)
                .ok_or("missing messages")?;
            let tools = case.get("tools").and_then(Value::as_array);
            let tool_choice = case.get("tool_choice");
            let options = case.get("options").ok_or("missing options")?;
            let flag = |key: &str| options.get(key).and_then(Value::as_bool) == Some(true);
            let options = CountOptions {
                count_response_tokens: flag("count_response_tokens"),
                use_default_image_token_count: flag("use_default_image_token_count"),
                default_token_count: match options.get("default_token_count") {
                    Some(count) => Some(expected_count(Some(count))?),
                    None => None,
                },
            };
            for model in models.iter().filter_map(Value::as_str) {
                let expected = case
                    .get("expected")
                    .and_then(|expected| expected.get(model));
                let count = count_messages(
                    model,
                    messages,
                    tools.map(Vec::as_slice),
                    tool_choice,
                    &options,
                );
                if expected
                    .and_then(|expected| expected.get("error"))
                    .is_some()
                {
                    assert!(
                        count.is_err(),
                        "{name} for {model}: LiteLLM fails, got {count:?}"
                    );
                    if case.get("expected_error_kind").and_then(Value::as_str)
                        == Some("image_fetch")
                    {
                        assert!(
                            matches!(count, Err(TokenError::ImageFetch { .. })),
                            "{name}: {count:?}"
                        );
                    }
                } else {
                    assert_eq!(count?, expected_count(expected)?, "{name} for {model}");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn hello_world_examples() -> TestResult {
        let messages = [json!({"role": "user", "content": "Hello world"})];
        let count = count_messages("gpt-4o", &messages, None, None, &CountOptions::default())?;
        assert_eq!(count, 9);
        assert_eq!(count_text_for_model("gpt-4o", "Hello world"), 2);
        assert_eq!(encoding_for_model("gpt-4o"), Encoding::O200kBase);
        assert_eq!(encoding_for_model("openai/gpt-4o"), Encoding::Cl100kBase);
        assert_eq!(
            encoding_for_model("claude-3-5-sonnet-20241022"),
            Encoding::Cl100kBase
        );
        Ok(())
    }

    #[test]
    fn special_token_text_is_ordinary() {
        for encoding in ENCODINGS {
            assert!(encode(encoding, "<|endoftext|>").len() > 1);
        }
    }

    #[test]
    fn python_str_matches_python() {
        let cases = [
            (json!(null), "None"),
            (json!(true), "True"),
            (json!(12), "12"),
            (json!(-3), "-3"),
            (
                json!(18_446_744_073_709_551_615_u64),
                "18446744073709551615",
            ),
            (json!(1.0), "1.0"),
            (json!(-0.0), "-0.0"),
            (json!(0.1), "0.1"),
            (json!(1.5e20), "1.5e+20"),
            (json!(1e16), "1e+16"),
            (json!(1e15), "1000000000000000.0"),
            (json!(123_456.789), "123456.789"),
            (json!(0.0001), "0.0001"),
            (json!(0.00001), "1e-05"),
            (json!(2.5e-7), "2.5e-07"),
            (
                json!(1.797_693_134_862_315_7e308),
                "1.7976931348623157e+308",
            ),
            (json!("it's"), "it's"),
            (
                json!({"a": [1, "it's", "say \"hi\"", "both ' \""], "b": {"c": null}}),
                r#"{'a': [1, "it's", 'say "hi"', 'both \' "'], 'b': {'c': None}}"#,
            ),
            (
                json!([
                    "tab\there",
                    "new\nline",
                    "back\\slash",
                    "\u{7}\u{7f}",
                    "é\u{a0}\u{200b}😀"
                ]),
                r"['tab\there', 'new\nline', 'back\\slash', '\x07\x7f', 'é\xa0\u200b😀']",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(python_str(&value), expected, "{value}");
        }
        let mut dumped = String::new();
        write_python_json(
            &mut dumped,
            &json!({"q": "é 漢 😀 \"x\"\n\u{7f}", "n": [1, 2.5, true, null]}),
        );
        assert_eq!(
            dumped,
            r#"{"q":"\u00e9 \u6f22 \ud83d\ude00 \"x\"\n\u007f","n":[1,2.5,true,null]}"#
        );
    }

    #[test]
    fn base64_is_decoded_like_python() -> TestResult {
        assert_eq!(python_b64decode("aGVsbG8=")?, b"hello");
        assert_eq!(python_b64decode("aGVs\nbG8=")?, b"hello");
        assert_eq!(python_b64decode("aGVsbG8=trailing-ignored")?, b"hello");
        assert_eq!(python_b64decode("aGVsbA==")?, b"hell");
        assert_eq!(python_b64decode("aGVsbG8h")?, b"hello!");
        assert!(python_b64decode("aGVsbG8").is_err());
        assert!(python_b64decode("aGVsb").is_err());
        assert!(python_b64decode("aGVsbG8é=").is_err());
        Ok(())
    }

    /// `cargo test --release -p llmrelay-core tokens::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing, not a check"]
    fn timing() -> TestResult {
        let messages = [json!({"role": "user", "content": "Hello world"})];
        let options = CountOptions::default();
        let started = Instant::now();
        count_messages("gpt-4o", &messages, None, None, &options)?;
        let first = started.elapsed();
        let iterations: u32 = 100_000;
        let started = Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(count_messages(
                "gpt-4o",
                std::hint::black_box(&messages),
                None,
                None,
                &options,
            )?);
        }
        let each = started.elapsed() / iterations;
        eprintln!("count_messages: first call {first:?}, then {each:?} per call");
        Ok(())
    }
}
