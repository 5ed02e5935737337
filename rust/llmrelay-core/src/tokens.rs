//! Token counting that reproduces tiktoken's encodings and LiteLLM's `token_counter`.
//!
//! `encode`, `decode` and `count_text` are plain tiktoken. `count_messages` and
//! `count_text_for_model` reproduce `litellm.token_counter` (LiteLLM 1.104) rule for rule,
//! including its quirks, because callers compare our numbers with LiteLLM's: the reference
//! values live in `tests/fixtures/tokens/corpus.json`, produced by
//! `scripts/gen_token_fixtures.py`.

use std::borrow::Cow;

use serde_json::{Map, Value};
use tiktoken_rs::CoreBPE;

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
const O200K_MODELS: &[&str] = &[
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
const TOKENS_PER_MESSAGE: usize = 3;
/// A `name` costs one token on top of its text.
const TOKENS_PER_NAME: usize = 1;
/// The assistant header the model writes its reply after.
const REPLY_PRIMING_TOKENS: usize = 3;
/// The framing of the tool definitions block.
const TOOL_DEFINITIONS_TOKENS: usize = 9;
/// With a system message present, tool definitions reuse part of its framing.
const SYSTEM_MESSAGE_WITH_TOOLS_DISCOUNT: usize = 4;
/// `tool_choice: "none"`.
const TOOL_CHOICE_NONE_TOKENS: usize = 1;
/// A forced function, on top of its name.
const TOOL_CHOICE_FUNCTION_TOKENS: usize = 7;

/// LiteLLM counts a string in chunks of this many characters (code points), summing the chunks:
/// a chunk boundary can split a token, so long texts count differently from one `encode`.
const CHUNK_CHARS: usize = 1024;
/// Beyond this many characters LiteLLM counts evenly spaced samples and scales up.
const MAX_EXACT_CHARS: usize = 4_000_000;
const EXTRAPOLATION_SAMPLES: usize = 16;

/// LiteLLM's count of one string.
#[derive(Clone, Copy)]
struct Counter {
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
fn scale_rounded(tokens: usize, total: usize, sampled: usize) -> usize {
    let scaled = (tokens as f64 * total as f64) / sampled as f64;
    scaled.round_ties_even() as usize
}

/// The byte offset of each character offset in `sorted_char_offsets` (the text's length for an
/// offset at or past its end).
fn byte_offsets_of_chars(text: &str, sorted_char_offsets: &[usize]) -> Vec<usize> {
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

/// One `count_messages` call: the counter of the model and the options.
struct MessageCounting {
    counter: Counter,
    options: CountOptions,
}

impl MessageCounting {
    fn count(&self, text: &str) -> usize {
        self.counter.count(text)
    }

    fn count_message(&self, message: &Value) -> Result<usize, TokenError> {
        let Value::Object(message) = message else {
            return Err(invalid(format!(
                "invalid message type: {}; expected an object",
                python_type_name(message)
            )));
        };
        let mut tokens = TOKENS_PER_MESSAGE;
        // Every string field is counted, `role` and `tool_call_id` included.
        for (key, value) in message {
            match value {
                Value::Null => {}
                _ if key == "tool_calls" || key == "function_call" => {
                    tokens += self.count_function_call(key, value)?;
                }
                Value::String(text) => {
                    tokens += self.count(text);
                    if key == "name" {
                        tokens += TOKENS_PER_NAME;
                    }
                }
                Value::Array(parts) if key == "content" => {
                    tokens += self.count_content_list(parts)?;
                }
                Value::Array(results) if key == "search_results" => {
                    let text = search_results_text(results);
                    if !text.is_empty() {
                        tokens += self.count(&text);
                    }
                }
                _ => {}
            }
        }
        Ok(tokens)
    }

    /// Only the arguments of a call are counted; names are priced with the tool definitions.
    fn count_function_call(&self, key: &str, value: &Value) -> Result<usize, TokenError> {
        if key == "function_call" {
            let Value::Object(call) = value else {
                return Err(invalid(format!(
                    "unsupported type {} for key function_call",
                    python_type_name(value)
                )));
            };
            return Ok(self.count(&arguments_text(call)));
        }
        let Value::Array(calls) = value else {
            return Err(invalid(format!(
                "unsupported type {} for key tool_calls",
                python_type_name(value)
            )));
        };
        let mut tokens = 0;
        for call in calls {
            let Some(function) = call.as_object().and_then(|call| call.get("function")) else {
                return Err(invalid(
                    "unsupported tool call: it must contain a function key",
                ));
            };
            let Value::Object(function) = function else {
                return Err(invalid(format!(
                    "unsupported tool call: its function is of type {}",
                    python_type_name(function)
                )));
            };
            tokens += self.count(&arguments_text(function));
        }
        Ok(tokens)
    }

    /// A content list; any error in it gives `default_token_count` for the whole list when set.
    fn count_content_list(&self, parts: &[Value]) -> Result<usize, TokenError> {
        self.or_default(parts.iter().try_fold(0, |tokens, part| {
            Ok(tokens + self.count_content_part(part)?)
        }))
    }

    fn or_default(&self, result: Result<usize, TokenError>) -> Result<usize, TokenError> {
        match (result, self.options.default_token_count) {
            (Err(_), Some(default)) => Ok(default),
            (result, _) => result,
        }
    }

    fn count_content_part(&self, part: &Value) -> Result<usize, TokenError> {
        let block = match part {
            Value::String(text) => return Ok(self.count(text)),
            Value::Object(block) => block,
            other => {
                return Err(invalid(format!(
                    "invalid content item type: {}; expected a string or an object with a 'type'",
                    python_type_name(other)
                )));
            }
        };
        let Some(kind) = block.get("type") else {
            return Err(invalid("content block has no 'type'"));
        };
        match kind.as_str() {
            Some("text") => Ok(self.count(&field_text(block, "text"))),
            Some("image_url") => self.count_image_url(block.get("image_url")),
            Some("image") => {
                require_typed_source(block.get("source"))?;
                Ok(self.auto_image_tokens())
            }
            Some("document") => self.count_document(block),
            Some("file") => Ok(self.count_file(block.get("file"))),
            Some("tool_use" | "tool_result") => self.count_anthropic_block(block),
            Some("thinking" | "redacted_thinking") => {
                let thinking = field_text(block, "thinking");
                Ok(if thinking.is_empty() {
                    0
                } else {
                    self.count(&thinking)
                })
            }
            Some("tool_reference") => Ok(match block.get("tool_name") {
                Some(name) if is_truthy(name) => self.count(&python_str(name)),
                _ => 0,
            }),
            _ => Err(invalid(format!(
                "invalid content item type: {}; expected text, image_url, image, document, file, \
                 tool_use, tool_result, thinking, redacted_thinking or tool_reference",
                python_str(kind)
            ))),
        }
    }

    fn count_image_url(&self, image_url: Option<&Value>) -> Result<usize, TokenError> {
        match image_url {
            Some(Value::Object(image_url)) => {
                let detail = match image_url.get("detail") {
                    None => ImageDetail::Auto,
                    Some(detail) => detail
                        .as_str()
                        .and_then(ImageDetail::from_name)
                        .ok_or_else(|| {
                            invalid(format!(
                                "Invalid detail value: {}. Expected 'low', 'high', or 'auto'.",
                                python_str(detail)
                            ))
                        })?,
                };
                let url = image_url
                    .get("url")
                    .filter(|url| is_truthy(url))
                    .ok_or_else(|| invalid("missing required key 'url' in image_url"))?;
                self.image_tokens(url, detail)
            }
            Some(Value::String(url)) => {
                if python_strip(url).is_empty() {
                    return Err(invalid("empty image_url string is not valid"));
                }
                Ok(self.auto_image_tokens())
            }
            other => Err(invalid(format!(
                "invalid image_url type: {}; expected a string or an object with a 'url'",
                other.map_or("NoneType", python_type_name)
            ))),
        }
    }

    fn image_tokens(&self, data: &Value, detail: ImageDetail) -> Result<usize, TokenError> {
        if self.options.use_default_image_token_count {
            return Ok(DEFAULT_IMAGE_TOKEN_COUNT);
        }
        match detail {
            ImageDetail::Low | ImageDetail::Auto => Ok(IMAGE_BASE_TOKENS),
            ImageDetail::High => {
                let Value::String(data) = data else {
                    return Err(invalid(format!(
                        "invalid image url of type {}",
                        python_type_name(data)
                    )));
                };
                high_detail_image_tokens(data)
            }
        }
    }

    /// Images whose detail LiteLLM takes as `auto`: the size is never read.
    fn auto_image_tokens(&self) -> usize {
        if self.options.use_default_image_token_count {
            DEFAULT_IMAGE_TOKEN_COUNT
        } else {
            IMAGE_BASE_TOKENS
        }
    }

    fn count_document(&self, document: &Map<String, Value>) -> Result<usize, TokenError> {
        let source = document
            .get("source")
            .ok_or_else(|| invalid("document block has no 'source'"))?;
        let mut tokens = 0;
        for key in ["title", "context"] {
            match document.get(key) {
                Some(Value::String(text)) => tokens += self.count(text),
                Some(value) if is_truthy(value) => {
                    return Err(invalid(format!(
                        "document {key} of type {} is not text",
                        python_type_name(value)
                    )));
                }
                _ => {}
            }
        }
        let source_type = require_typed_source(Some(source))?;
        match source_type.as_str() {
            Some("text") => match source.get("data") {
                Some(Value::String(data)) => Ok(tokens + self.count(data)),
                _ => Err(invalid("text document source needs string 'data'")),
            },
            Some("content") => {
                let content_tokens = match source.get("content") {
                    Some(Value::String(text)) => self.count(text),
                    Some(Value::Array(parts)) => self.count_content_list(parts)?,
                    // Iterating a dict yields its keys.
                    Some(Value::Object(map)) => map.keys().map(|key| self.count(key)).sum(),
                    Some(other) => self.or_default(Err(invalid(format!(
                        "document content of type {} is not iterable",
                        python_type_name(other)
                    ))))?,
                    None => return Err(invalid("content document source needs 'content'")),
                };
                Ok(tokens + content_tokens)
            }
            _ => Ok(tokens + self.auto_image_tokens()),
        }
    }

    fn count_file(&self, file: Option<&Value>) -> usize {
        let Some(Value::Object(file)) = file else {
            return 0;
        };
        let name_tokens = match file.get("filename") {
            Some(Value::String(name)) if !name.is_empty() => self.count(name),
            _ => 0,
        };
        match file.get("file_data") {
            Some(Value::String(data)) if !data.is_empty() => name_tokens + self.auto_image_tokens(),
            _ => name_tokens,
        }
    }

    /// Anthropic `tool_use` / `tool_result` blocks: the fields that reach the prompt.
    fn count_anthropic_block(&self, block: &Map<String, Value>) -> Result<usize, TokenError> {
        let fields: &[&str] = if block.get("type").and_then(Value::as_str) == Some("tool_use") {
            &["name", "input", "caller"]
        } else {
            if !block.contains_key("tool_use_id") {
                return Err(invalid(
                    "missing required fields in tool_result block: tool_use_id",
                ));
            }
            &["content"]
        };
        let mut tokens = 0;
        for field in fields {
            tokens += match block.get(*field) {
                Some(Value::String(text)) => self.count(text),
                Some(Value::Array(parts)) => self.count_content_list(parts)?,
                Some(object @ Value::Object(_)) => self.count(&python_str(object)),
                _ => 0,
            };
        }
        Ok(tokens)
    }

    /// Reply priming, tool definitions and tool choice.
    fn count_extra(
        &self,
        tools: Option<&[Value]>,
        tool_choice: Option<&Value>,
        includes_system_message: bool,
    ) -> Result<usize, TokenError> {
        let mut tokens = REPLY_PRIMING_TOKENS;
        if let Some(tools) = tools.filter(|tools| !tools.is_empty()) {
            tokens += self.count(&format_function_definitions(tools)?) + TOOL_DEFINITIONS_TOKENS;
            if includes_system_message {
                tokens -= SYSTEM_MESSAGE_WITH_TOOLS_DISCOUNT;
            }
        }
        match tool_choice {
            Some(Value::String(choice)) if choice == "none" => tokens += TOOL_CHOICE_NONE_TOKENS,
            Some(Value::Object(choice)) => {
                let name = choice
                    .get("function")
                    .and_then(Value::as_object)
                    .and_then(|function| function.get("name"))
                    .ok_or_else(|| invalid("tool_choice needs function.name"))?;
                tokens += TOOL_CHOICE_FUNCTION_TOKENS + self.count(&python_str(name));
            }
            _ => {}
        }
        Ok(tokens)
    }
}

fn invalid(message: impl Into<String>) -> TokenError {
    TokenError::InvalidInput(message.into())
}

/// `str(call.get("arguments", ""))`.
fn arguments_text(call: &Map<String, Value>) -> Cow<'_, str> {
    call.get("arguments").map_or(Cow::Borrowed(""), python_str)
}

/// `str(block.get(key, ""))`.
fn field_text<'a>(block: &'a Map<String, Value>, key: &str) -> Cow<'a, str> {
    block.get(key).map_or(Cow::Borrowed(""), python_str)
}

/// An Anthropic `source` must be an object with a `type`; returns that type.
fn require_typed_source(source: Option<&Value>) -> Result<&Value, TokenError> {
    source
        .and_then(Value::as_object)
        .and_then(|source| source.get("type"))
        .ok_or_else(|| invalid("content block needs a 'source' object with a 'type'"))
}

/// The model-visible text of a tool message's `search_results`.
fn search_results_text(results: &[Value]) -> String {
    let mut text = String::new();
    for result in results.iter().filter_map(Value::as_object) {
        for key in ["source", "title"] {
            if let Some(Value::String(value)) = result.get(key) {
                text.push_str(value);
            }
        }
        if let Some(Value::Array(blocks)) = result.get("content") {
            for block in blocks.iter().filter_map(Value::as_object) {
                if let Some(Value::String(value)) = block.get("text") {
                    text.push_str(value);
                }
            }
        }
        match result.get("citations") {
            None | Some(Value::Null) => {}
            Some(citations) => write_python_json(&mut text, citations),
        }
    }
    text
}

// Tool definitions are counted as a TypeScript-style `namespace functions { .. }` listing, the
// shape OpenAI's hidden prompt is understood to give them.

fn format_function_definitions(tools: &[Value]) -> Result<String, TokenError> {
    let mut lines = vec!["namespace functions {".to_owned(), String::new()];
    for tool in tools.iter().filter_map(Value::as_object) {
        let (name, description, parameters) = match tool.get("function") {
            Some(Value::Object(function)) => (
                function.get("name"),
                function.get("description"),
                function.get("parameters"),
            ),
            // An Anthropic tool: name, description and input_schema at the top level.
            _ => (
                tool.get("name"),
                tool.get("description"),
                [tool.get("input_schema"), tool.get("parameters")]
                    .into_iter()
                    .flatten()
                    .find(|parameters| is_truthy(parameters)),
            ),
        };
        let Some(name) = name.filter(|name| is_truthy(name)) else {
            continue;
        };
        let name = python_str(name);
        if let Some(description) = description.filter(|description| is_truthy(description)) {
            lines.push(format!("// {}", python_str(description)));
        }
        let parameters = parameters.and_then(Value::as_object);
        match parameters.and_then(|parameters| parameters.get("properties")) {
            Some(Value::Object(properties)) if !properties.is_empty() => {
                lines.push(format!("type {name} = (_: {{"));
                if let Some(parameters) = parameters {
                    lines.push(format_object_parameters(parameters, 0)?);
                }
                lines.push("}) => any;".to_owned());
            }
            Some(properties) if is_truthy(properties) => {
                return Err(invalid(format!(
                    "tool {name}: 'properties' of type {} is not an object",
                    python_type_name(properties)
                )));
            }
            _ => lines.push(format!("type {name} = () => any;")),
        }
        lines.push(String::new());
    }
    lines.push("} // namespace functions".to_owned());
    Ok(lines.join("\n"))
}

fn format_object_parameters(
    parameters: &Map<String, Value>,
    indent: usize,
) -> Result<String, TokenError> {
    let properties = match parameters.get("properties") {
        Some(Value::Object(properties)) if !properties.is_empty() => properties,
        Some(properties) if is_truthy(properties) => {
            return Err(invalid(format!(
                "'properties' of type {} is not an object",
                python_type_name(properties)
            )));
        }
        _ => return Ok(String::new()),
    };
    let required = parameters
        .get("required")
        .filter(|required| is_truthy(required));
    let padding = " ".repeat(indent);
    let mut lines = Vec::with_capacity(properties.len());
    for (key, property) in properties {
        let Value::Object(property) = property else {
            return Err(invalid(format!(
                "property {key} of type {} is not an object",
                python_type_name(property)
            )));
        };
        if let Some(description) = property
            .get("description")
            .filter(|description| is_truthy(description))
        {
            lines.push(format!("{padding}// {}", python_str(description)));
        }
        let is_required = match required {
            Some(required) => python_contains(required, key)?,
            None => false,
        };
        let question = if is_required { "" } else { "?" };
        lines.push(format!(
            "{padding}{key}{question}: {},",
            format_type(property, indent)?
        ));
    }
    Ok(lines.join("\n"))
}

fn format_type(property: &Map<String, Value>, indent: usize) -> Result<String, TokenError> {
    Ok(match property.get("type").and_then(Value::as_str) {
        Some("string") => match property.get("enum") {
            Some(values) => format_enum(values)?,
            None => "string".to_owned(),
        },
        Some("array") => {
            let Some(Value::Object(items)) = property.get("items") else {
                return Err(invalid("array property needs an 'items' object"));
            };
            format!("{}[]", format_type(items, indent)?)
        }
        Some("object") => format!(
            "{{\n{}\n}}",
            format_object_parameters(property, indent + 2)?
        ),
        Some("integer" | "number") => match property.get("enum") {
            Some(values) => format_enum(values)?,
            None => "number".to_owned(),
        },
        Some("boolean") => "boolean".to_owned(),
        Some("null") => "null".to_owned(),
        _ => "any".to_owned(),
    })
}

/// `" | ".join(f'"{value}"' for value in values)`.
fn format_enum(values: &Value) -> Result<String, TokenError> {
    let quoted = |text: &str| format!("\"{text}\"");
    let items: Vec<String> = match values {
        Value::Array(values) => values
            .iter()
            .map(|value| quoted(&python_str(value)))
            .collect(),
        Value::String(text) => text
            .chars()
            .map(|character| quoted(character.encode_utf8(&mut [0; 4])))
            .collect(),
        Value::Object(map) => map.keys().map(|key| quoted(key)).collect(),
        other => {
            return Err(invalid(format!(
                "enum of type {} is not iterable",
                python_type_name(other)
            )));
        }
    };
    Ok(items.join(" | "))
}

// Images: OpenAI's tile formula as LiteLLM computes it.

const IMAGE_BASE_TOKENS: usize = 85;
const IMAGE_TILE_TOKENS: usize = 2 * IMAGE_BASE_TOKENS;
/// What every image counts as with `use_default_image_token_count`.
const DEFAULT_IMAGE_TOKEN_COUNT: usize = 250;
/// The size LiteLLM assumes for image data it does not recognise.
const DEFAULT_IMAGE_SIDE: u64 = 300;
const HIGH_RES_MAX_SHORT_SIDE: u64 = 768;
const HIGH_RES_MAX_LONG_SIDE: u64 = 2000;
const TILE_SIDE: u64 = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageDetail {
    Low,
    High,
    Auto,
}

impl ImageDetail {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "low" => Some(Self::Low),
            "high" => Some(Self::High),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }
}

fn high_detail_image_tokens(data: &str) -> Result<usize, TokenError> {
    let (width, height) = image_dimensions(data)?;
    let (width, height) = resize_high_res(width, height)?;
    let tiles = width.div_ceil(TILE_SIDE) * height.div_ceil(TILE_SIDE);
    let tiles = usize::try_from(tiles)
        .map_err(|_| TokenError::InvalidImage("image is too large".to_owned()))?;
    Ok(IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * tiles)
}

/// LiteLLM's high-detail resize: an image with a side over 768 px gets its short side set to
/// 768 px (larger images shrink, but smaller ones grow), then its long side capped at 2000 px.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "LiteLLM computes the aspect ratio in floating point and truncates"
)]
fn resize_high_res(width: u64, height: u64) -> Result<(u64, u64), TokenError> {
    if width <= HIGH_RES_MAX_SHORT_SIDE && height <= HIGH_RES_MAX_SHORT_SIDE {
        return Ok((width, height));
    }
    let shorter = width.min(height);
    if shorter == 0 {
        return Err(TokenError::InvalidImage(format!(
            "image of {width}x{height} has a zero side"
        )));
    }
    let aspect_ratio = width.max(height) as f64 / shorter as f64;
    let short_side = HIGH_RES_MAX_SHORT_SIDE;
    let mut long_side = (short_side as f64 * aspect_ratio) as u64;
    let mut short_side_after = short_side;
    if long_side > HIGH_RES_MAX_LONG_SIDE {
        long_side = HIGH_RES_MAX_LONG_SIDE;
        short_side_after = (HIGH_RES_MAX_LONG_SIDE as f64 / aspect_ratio) as u64;
    }
    Ok(if width <= height {
        (short_side_after, long_side)
    } else {
        (long_side, short_side_after)
    })
}

/// Width and height of the image in `data`, a base64 data URL (everything after the first comma
/// is base64). Unrecognised formats and HEIC count as 300x300, as in LiteLLM.
fn image_dimensions(data: &str) -> Result<(u64, u64), TokenError> {
    if data.starts_with("http://") || data.starts_with("https://") {
        return Err(TokenError::ImageFetch {
            url: data.to_owned(),
        });
    }
    let Some((_, encoded)) = data.split_once(',') else {
        return Err(TokenError::InvalidImage(
            "image is neither an http(s) URL nor a base64 data URL".to_owned(),
        ));
    };
    let bytes = python_b64decode(encoded)?;
    let truncated = || TokenError::InvalidImage("image header is truncated".to_owned());
    let bytes = bytes.as_slice();
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let width = read_u32_be(bytes, 16).ok_or_else(truncated)?;
        let height = read_u32_be(bytes, 20).ok_or_else(truncated)?;
        return Ok((u64::from(width), u64::from(height)));
    }
    if bytes.starts_with(b"GIF8") && bytes.get(5) == Some(&b'a') {
        let width = read_u16_le(bytes, 6).ok_or_else(truncated)?;
        let height = read_u16_le(bytes, 8).ok_or_else(truncated)?;
        return Ok((u64::from(width), u64::from(height)));
    }
    if bytes.starts_with(b"\xff\xd8\xff") {
        return jpeg_dimensions(bytes);
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        return Ok((DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE));
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return webp_dimensions(bytes).ok_or_else(truncated);
    }
    Ok((DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE))
}

/// WebP: the canvas of an extended file, else the frame of a lossy or lossless one.
fn webp_dimensions(bytes: &[u8]) -> Option<(u64, u64)> {
    match bytes.get(12..16)? {
        b"VP8X" => {
            let width = read_u24_le(bytes, 24)? + 1;
            let height = read_u24_le(bytes, 27)? + 1;
            Some((u64::from(width), u64::from(height)))
        }
        b"VP8 " => {
            let width = read_u16_le(bytes, 26)? & 0x3FFF;
            let height = read_u16_le(bytes, 28)? & 0x3FFF;
            Some((u64::from(width), u64::from(height)))
        }
        b"VP8L" => {
            let bits = read_u32_le(bytes, 21)?;
            Some((
                u64::from(bits & 0x3FFF) + 1,
                u64::from((bits >> 14) & 0x3FFF) + 1,
            ))
        }
        _ => Some((DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE)),
    }
}

/// JPEG: walks the segments to the first start-of-frame marker (0xC0..=0xCF except the DHT,
/// JPG and DAC markers 0xC4, 0xC8, 0xCC), seeking the way LiteLLM does: past the end is
/// allowed, before the start clamps to it.
fn jpeg_dimensions(bytes: &[u8]) -> Result<(u64, u64), TokenError> {
    let truncated = || TokenError::InvalidImage("JPEG ends before its frame header".to_owned());
    let read_byte = |position: &mut usize| {
        let byte = bytes.get(*position).copied();
        *position += 1;
        byte.ok_or_else(truncated)
    };
    let read_u16 = |position: &mut usize| {
        let value = read_u16_be(bytes, *position);
        *position += 2;
        value.ok_or_else(truncated)
    };
    let mut position: usize = 0;
    let mut skip: i64 = 2;
    let mut marker: u8 = 0;
    // Each well-formed step consumes at least three bytes; a negative segment length could loop.
    let mut steps_left = bytes.len() + 1;
    while !(0xC0..=0xCF).contains(&marker) || matches!(marker, 0xC4 | 0xC8 | 0xCC) {
        steps_left = steps_left
            .checked_sub(1)
            .ok_or_else(|| TokenError::InvalidImage("JPEG segments loop".to_owned()))?;
        position = seek(position, skip);
        let mut byte = read_byte(&mut position)?;
        while byte == 0xFF {
            byte = read_byte(&mut position)?;
        }
        marker = byte;
        skip = i64::from(read_u16(&mut position)?) - 2;
    }
    position += 1;
    let height = read_u16(&mut position)?;
    let width = read_u16(&mut position)?;
    Ok((u64::from(width), u64::from(height)))
}

fn seek(position: usize, offset: i64) -> usize {
    let magnitude = usize::try_from(offset.unsigned_abs()).unwrap_or(usize::MAX);
    if offset >= 0 {
        position.saturating_add(magnitude)
    } else {
        position.saturating_sub(magnitude)
    }
}

fn read_array<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    bytes.get(offset..offset.checked_add(N)?)?.try_into().ok()
}

fn read_u16_be(bytes: &[u8], offset: usize) -> Option<u16> {
    read_array(bytes, offset).map(u16::from_be_bytes)
}

fn read_u16_le(bytes: &[u8], offset: usize) -> Option<u16> {
    read_array(bytes, offset).map(u16::from_le_bytes)
}

fn read_u24_le(bytes: &[u8], offset: usize) -> Option<u32> {
    read_array::<3>(bytes, offset)
        .map(|[low, middle, high]| u32::from_le_bytes([low, middle, high, 0]))
}

fn read_u32_be(bytes: &[u8], offset: usize) -> Option<u32> {
    read_array(bytes, offset).map(u32::from_be_bytes)
}

fn read_u32_le(bytes: &[u8], offset: usize) -> Option<u32> {
    read_array(bytes, offset).map(u32::from_le_bytes)
}

/// Python's lenient `base64.b64decode`: characters outside the alphabet are skipped, decoding
/// stops at the padding that completes a quantum, and a missing padding is an error.
fn python_b64decode(encoded: &str) -> Result<Vec<u8>, TokenError> {
    if !encoded.is_ascii() {
        return Err(TokenError::InvalidImage(
            "base64 data contains non-ASCII characters".to_owned(),
        ));
    }
    let mut decoded = Vec::with_capacity(encoded.len() / 4 * 3);
    let mut quantum_position = 0_u8;
    let mut carried: u8 = 0;
    let mut pads = 0_u8;
    for byte in encoded.bytes() {
        if byte == b'=' {
            if quantum_position >= 2 {
                pads += 1;
                if quantum_position + pads >= 4 {
                    return Ok(decoded);
                }
            }
            continue;
        }
        let Some(sextet) = base64_sextet(byte) else {
            continue;
        };
        pads = 0;
        match quantum_position {
            0 => {
                carried = sextet;
                quantum_position = 1;
            }
            1 => {
                decoded.push((carried << 2) | (sextet >> 4));
                carried = sextet & 0x0F;
                quantum_position = 2;
            }
            2 => {
                decoded.push((carried << 4) | (sextet >> 2));
                carried = sextet & 0x03;
                quantum_position = 3;
            }
            _ => {
                decoded.push((carried << 6) | sextet);
                quantum_position = 0;
            }
        }
    }
    match quantum_position {
        0 => Ok(decoded),
        1 => Err(TokenError::InvalidImage(
            "invalid base64: the number of data characters is 1 more than a multiple of 4"
                .to_owned(),
        )),
        _ => Err(TokenError::InvalidImage(
            "invalid base64: incorrect padding".to_owned(),
        )),
    }
}

fn base64_sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

// Python semantics LiteLLM relies on: `str()`, truthiness, `in`, `strip()` and `json.dumps`.

/// Python's `bool(value)`.
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|number| number != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

fn python_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `key in container`.
fn python_contains(container: &Value, key: &str) -> Result<bool, TokenError> {
    match container {
        Value::Array(items) => Ok(items.iter().any(|item| item.as_str() == Some(key))),
        Value::String(text) => Ok(text.contains(key)),
        Value::Object(map) => Ok(map.contains_key(key)),
        other => Err(invalid(format!(
            "argument of type '{}' is not iterable",
            python_type_name(other)
        ))),
    }
}

/// Python's `str.strip()`.
fn python_strip(text: &str) -> &str {
    text.trim_matches(|character: char| {
        character.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&character)
    })
}

/// Python's `str(value)` of the JSON value as `json.loads` gives it.
fn python_str(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        other => {
            let mut text = String::new();
            write_python_repr(&mut text, other);
            Cow::Owned(text)
        }
    }
}

fn write_python_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(number) => write_python_number(out, number),
        Value::String(text) => write_python_string_repr(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_python_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_python_string_repr(out, key);
                out.push_str(": ");
                write_python_repr(out, item);
            }
            out.push('}');
        }
    }
}

fn write_python_number(out: &mut String, number: &serde_json::Number) {
    if let Some(integer) = number.as_i64() {
        out.push_str(&integer.to_string());
    } else if let Some(integer) = number.as_u64() {
        out.push_str(&integer.to_string());
    } else if let Some(float) = number.as_f64() {
        write_python_float(out, float);
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, positional for decimal
/// exponents in -4..16, scientific (`1e+16`, `1.5e-05`) otherwise.
fn write_python_float(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    if value.is_infinite() {
        out.push_str("inf");
        return;
    }
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        if let Ok(exponent) = usize::try_from(exponent) {
            let integer_digits = exponent + 1;
            if digits.len() <= integer_digits {
                out.push_str(&digits);
                out.push_str(&"0".repeat(integer_digits - digits.len()));
                out.push_str(".0");
            } else {
                let (integer, fraction) = digits.split_at(integer_digits);
                out.push_str(integer);
                out.push('.');
                out.push_str(fraction);
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat(exponent.unsigned_abs() as usize - 1));
            out.push_str(&digits);
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let exponent = exponent.unsigned_abs();
        if exponent < 10 {
            out.push('0');
        }
        out.push_str(&exponent.to_string());
    }
}

/// Python's `repr(str)`: single quotes unless the text holds a single quote and no double one.
fn write_python_string_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for character in text.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if character == quote => {
                out.push('\\');
                out.push(character);
            }
            ' '..='~' => out.push(character),
            _ if !character.is_ascii() && is_python_printable(character) => out.push(character),
            _ => {
                let code = u32::from(character);
                if code <= 0xFF {
                    push_hex_escape(out, 'x', code, 2);
                } else if code <= 0xFFFF {
                    push_hex_escape(out, 'u', code, 4);
                } else {
                    push_hex_escape(out, 'U', code, 8);
                }
            }
        }
    }
    out.push(quote);
}

/// `\\{kind}` and `code` as `digits` lowercase hex digits.
fn push_hex_escape(out: &mut String, kind: char, code: u32, digits: u32) {
    out.push('\\');
    out.push(kind);
    for position in (0..digits).rev() {
        let nibble = (code >> (4 * position)) & 0xF;
        out.push(char::from_digit(nibble, 16).unwrap_or('0'));
    }
}

/// Python's `str.isprintable()` for one non-ASCII character: false for controls, separators
/// other than the space, format characters, private use and noncharacters. (Unassigned code
/// points, which Python also escapes, are printed as they are.)
fn is_python_printable(character: char) -> bool {
    !matches!(
        u32::from(character),
        0x80..=0xA0
            | 0xAD
            | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x1680
            | 0x180E
            | 0x2000..=0x200F
            | 0x2028..=0x202F
            | 0x205F..=0x2064
            | 0x2066..=0x206F
            | 0x3000
            | 0xD800..=0xF8FF
            | 0xFDD0..=0xFDEF
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xFFFE..=0xFFFF
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
            | 0xF_0000..=0x10_FFFF
    )
}

/// Python's `json.dumps(value, separators=(",", ":"))`: compact, non-ASCII escaped.
fn write_python_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => write_python_number(out, number),
        Value::String(text) => write_python_json_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_python_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_python_json_string(out, key);
                out.push(':');
                write_python_json(out, item);
            }
            out.push('}');
        }
    }
}

fn write_python_json_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(character),
            _ => {
                let mut units = [0_u16; 2];
                for unit in character.encode_utf16(&mut units) {
                    push_hex_escape(out, 'u', u32::from(*unit), 4);
                }
            }
        }
    }
    out.push('"');
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
