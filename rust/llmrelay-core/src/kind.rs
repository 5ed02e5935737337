//! The kinds of call, one list shared by the engine, the Router, the pipeline, the proxy and
//! the Python bridge: adding an endpoint kind is one variant here.

/// What the caller asked for. The `call_type` names are LiteLLM's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `completion()`, `/chat/completions`.
    Chat,
    /// `text_completion()`, `/completions`.
    TextCompletion,
    /// `embedding()`, `/embeddings`.
    Embedding,
    /// `responses()`, `/responses` (OpenAI's own endpoint, or bridged through chat).
    Responses,
    /// `/v1/messages`: Anthropic's Messages API over any provider (a chat call).
    AnthropicMessages,
    /// `image_generation()`, `/images/generations`.
    ImageGeneration,
    /// `rerank()`, `/rerank`.
    Rerank,
    /// `moderation()`, `/moderations`.
    Moderation,
    /// `transcription()`, `/audio/transcriptions`.
    Transcription,
    /// `speech()`, `/audio/speech`.
    Speech,
    /// `acount_tokens()`, `/v1/messages/count_tokens`.
    CountTokens,
    /// A provider pass-through route (`/openai/…`, `/anthropic/…`, …).
    PassThrough,
}

impl CallKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 12] = [
        Self::Chat,
        Self::TextCompletion,
        Self::Embedding,
        Self::Responses,
        Self::AnthropicMessages,
        Self::ImageGeneration,
        Self::Rerank,
        Self::Moderation,
        Self::Transcription,
        Self::Speech,
        Self::CountTokens,
        Self::PassThrough,
    ];

    /// LiteLLM's `call_type` for a sync call (`completion`, `embedding`, …).
    #[must_use]
    pub const fn call_type(self) -> &'static str {
        match self {
            Self::Chat => "completion",
            Self::TextCompletion => "text_completion",
            Self::Embedding => "embedding",
            Self::Responses => "responses",
            Self::AnthropicMessages => "anthropic_messages",
            Self::ImageGeneration => "image_generation",
            Self::Rerank => "rerank",
            Self::Moderation => "moderation",
            Self::Transcription => "transcription",
            Self::Speech => "speech",
            Self::CountTokens => "count_tokens",
            Self::PassThrough => "pass_through_endpoint",
        }
    }

    /// LiteLLM's `call_type` for the async form (`acompletion`, `aembedding`, …); the proxy's
    /// calls are async ones.
    #[must_use]
    pub const fn async_call_type(self) -> &'static str {
        match self {
            Self::Chat => "acompletion",
            Self::TextCompletion => "atext_completion",
            Self::Embedding => "aembedding",
            Self::Responses => "aresponses",
            Self::AnthropicMessages => "anthropic_messages",
            Self::ImageGeneration => "aimage_generation",
            Self::Rerank => "arerank",
            Self::Moderation => "amoderation",
            Self::Transcription => "atranscription",
            Self::Speech => "aspeech",
            Self::CountTokens => "acount_tokens",
            Self::PassThrough => "pass_through_endpoint",
        }
    }

    /// The `call_type` LiteLLM's proxy hands its hooks (`async_pre_call_hook` and friends).
    #[must_use]
    pub const fn hook_call_type(self) -> &'static str {
        match self {
            Self::Chat => "completion",
            Self::TextCompletion => "text_completion",
            Self::Embedding => "embeddings",
            Self::Responses => "responses",
            Self::AnthropicMessages => "anthropic_messages",
            Self::ImageGeneration => "image_generation",
            Self::Rerank => "rerank",
            Self::Moderation => "moderation",
            Self::Transcription => "audio_transcription",
            Self::Speech => "audio_speech",
            Self::CountTokens => "count_tokens",
            Self::PassThrough => "pass_through_endpoint",
        }
    }

    /// The kind for a LiteLLM `call_type` (sync or async spelling).
    #[must_use]
    pub fn from_call_type(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.call_type() == name || kind.async_call_type() == name)
    }

    /// The OpenAI-style route of the kind (`/chat/completions`), used in messages.
    #[must_use]
    pub const fn route(self) -> &'static str {
        match self {
            Self::Chat => "/chat/completions",
            Self::TextCompletion => "/completions",
            Self::Embedding => "/embeddings",
            Self::Responses => "/responses",
            Self::AnthropicMessages => "/v1/messages",
            Self::ImageGeneration => "/images/generations",
            Self::Rerank => "/rerank",
            Self::Moderation => "/moderations",
            Self::Transcription => "/audio/transcriptions",
            Self::Speech => "/audio/speech",
            Self::CountTokens => "/v1/messages/count_tokens",
            Self::PassThrough => "/pass-through",
        }
    }

    /// Whether the kind runs as a chat completion upstream (possibly bridged).
    #[must_use]
    pub const fn is_chat(self) -> bool {
        matches!(self, Self::Chat | Self::AnthropicMessages | Self::Responses)
    }
}

impl std::fmt::Display for CallKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.call_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in CallKind::ALL {
            assert_eq!(CallKind::from_call_type(kind.call_type()), Some(kind));
            assert_eq!(CallKind::from_call_type(kind.async_call_type()), Some(kind));
        }
        assert_eq!(CallKind::from_call_type("nope"), None);
    }
}
