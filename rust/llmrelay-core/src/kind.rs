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
    /// `search()`, `/v1/search`: LiteLLM's Search API over the search providers.
    Search,
    /// `acount_tokens()`, `/v1/messages/count_tokens`.
    CountTokens,
    /// A provider pass-through route (`/openai/…`, `/anthropic/…`, …).
    PassThrough,
}

impl CallKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 13] = [
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
        Self::Search,
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
            Self::Search => "search",
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
            Self::Search => "asearch",
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
            Self::Search => "search",
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
            Self::Search => "/v1/search",
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

/// LiteLLM's `CallTypes` enum (1.104) in its order, as `(member name, value)`: the Python
/// `CallTypes` is built from it. The kinds this build serves are [`CallKind`]'s.
pub const LITELLM_CALL_TYPES: &[(&str, &str)] = &[
    ("embedding", "embedding"),
    ("aembedding", "aembedding"),
    ("completion", "completion"),
    ("acompletion", "acompletion"),
    ("atext_completion", "atext_completion"),
    ("text_completion", "text_completion"),
    ("image_generation", "image_generation"),
    ("aimage_generation", "aimage_generation"),
    ("image_edit", "image_edit"),
    ("aimage_edit", "aimage_edit"),
    ("moderation", "moderation"),
    ("amoderation", "amoderation"),
    ("atranscription", "atranscription"),
    ("transcription", "transcription"),
    ("aspeech", "aspeech"),
    ("speech", "speech"),
    ("rerank", "rerank"),
    ("arerank", "arerank"),
    ("search", "search"),
    ("asearch", "asearch"),
    ("arealtime", "_arealtime"),
    ("aresponses_websocket", "_aresponses_websocket"),
    ("create_batch", "create_batch"),
    ("acreate_batch", "acreate_batch"),
    ("aretrieve_batch", "aretrieve_batch"),
    ("retrieve_batch", "retrieve_batch"),
    ("acancel_batch", "acancel_batch"),
    ("cancel_batch", "cancel_batch"),
    ("pass_through", "pass_through_endpoint"),
    ("anthropic_messages", "anthropic_messages"),
    ("aanthropic_messages", "aanthropic_messages"),
    ("get_assistants", "get_assistants"),
    ("aget_assistants", "aget_assistants"),
    ("create_assistants", "create_assistants"),
    ("acreate_assistants", "acreate_assistants"),
    ("delete_assistant", "delete_assistant"),
    ("adelete_assistant", "adelete_assistant"),
    ("acreate_thread", "acreate_thread"),
    ("create_thread", "create_thread"),
    ("aget_thread", "aget_thread"),
    ("get_thread", "get_thread"),
    ("a_add_message", "a_add_message"),
    ("add_message", "add_message"),
    ("aget_messages", "aget_messages"),
    ("get_messages", "get_messages"),
    ("arun_thread", "arun_thread"),
    ("run_thread", "run_thread"),
    ("arun_thread_stream", "arun_thread_stream"),
    ("run_thread_stream", "run_thread_stream"),
    ("afile_retrieve", "afile_retrieve"),
    ("file_retrieve", "file_retrieve"),
    ("afile_delete", "afile_delete"),
    ("file_delete", "file_delete"),
    ("afile_list", "afile_list"),
    ("file_list", "file_list"),
    ("acreate_file", "acreate_file"),
    ("create_file", "create_file"),
    ("afile_content", "afile_content"),
    ("file_content", "file_content"),
    ("create_fine_tuning_job", "create_fine_tuning_job"),
    ("acreate_fine_tuning_job", "acreate_fine_tuning_job"),
    ("create_video", "create_video"),
    ("acreate_video", "acreate_video"),
    ("video_generation", "video_generation"),
    ("avideo_generation", "avideo_generation"),
    ("avideo_retrieve", "avideo_retrieve"),
    ("video_retrieve", "video_retrieve"),
    ("avideo_content", "avideo_content"),
    ("video_content", "video_content"),
    ("video_remix", "video_remix"),
    ("avideo_remix", "avideo_remix"),
    ("video_list", "video_list"),
    ("avideo_list", "avideo_list"),
    ("video_retrieve_job", "video_retrieve_job"),
    ("avideo_retrieve_job", "avideo_retrieve_job"),
    ("video_delete", "video_delete"),
    ("avideo_delete", "avideo_delete"),
    ("video_create_character", "video_create_character"),
    ("avideo_create_character", "avideo_create_character"),
    ("video_get_character", "video_get_character"),
    ("avideo_get_character", "avideo_get_character"),
    ("video_edit", "video_edit"),
    ("avideo_edit", "avideo_edit"),
    ("video_extension", "video_extension"),
    ("avideo_extension", "avideo_extension"),
    ("vector_store_file_create", "vector_store_file_create"),
    ("avector_store_file_create", "avector_store_file_create"),
    ("vector_store_file_list", "vector_store_file_list"),
    ("avector_store_file_list", "avector_store_file_list"),
    ("vector_store_file_retrieve", "vector_store_file_retrieve"),
    ("avector_store_file_retrieve", "avector_store_file_retrieve"),
    ("vector_store_file_content", "vector_store_file_content"),
    ("avector_store_file_content", "avector_store_file_content"),
    ("vector_store_file_update", "vector_store_file_update"),
    ("avector_store_file_update", "avector_store_file_update"),
    ("vector_store_file_delete", "vector_store_file_delete"),
    ("avector_store_file_delete", "avector_store_file_delete"),
    ("vector_store_create", "vector_store_create"),
    ("avector_store_create", "avector_store_create"),
    ("vector_store_search", "vector_store_search"),
    ("avector_store_search", "avector_store_search"),
    ("ingest", "ingest"),
    ("aingest", "aingest"),
    ("query", "query"),
    ("aquery", "aquery"),
    ("create_interaction", "create_interaction"),
    ("acreate_interaction", "acreate_interaction"),
    ("create_container", "create_container"),
    ("acreate_container", "acreate_container"),
    ("list_containers", "list_containers"),
    ("alist_containers", "alist_containers"),
    ("retrieve_container", "retrieve_container"),
    ("aretrieve_container", "aretrieve_container"),
    ("delete_container", "delete_container"),
    ("adelete_container", "adelete_container"),
    ("list_container_files", "list_container_files"),
    ("alist_container_files", "alist_container_files"),
    ("upload_container_file", "upload_container_file"),
    ("aupload_container_file", "aupload_container_file"),
    ("create_sandbox", "create_sandbox"),
    ("acreate_sandbox", "acreate_sandbox"),
    ("delete_sandbox", "delete_sandbox"),
    ("adelete_sandbox", "adelete_sandbox"),
    ("run_code", "run_code"),
    ("arun_code", "arun_code"),
    ("code_interpreter_tool", "code_interpreter_tool"),
    ("acode_interpreter_tool", "acode_interpreter_tool"),
    ("acancel_fine_tuning_job", "acancel_fine_tuning_job"),
    ("cancel_fine_tuning_job", "cancel_fine_tuning_job"),
    ("alist_fine_tuning_jobs", "alist_fine_tuning_jobs"),
    ("list_fine_tuning_jobs", "list_fine_tuning_jobs"),
    ("aretrieve_fine_tuning_job", "aretrieve_fine_tuning_job"),
    ("retrieve_fine_tuning_job", "retrieve_fine_tuning_job"),
    ("responses", "responses"),
    ("aresponses", "aresponses"),
    ("alist_input_items", "alist_input_items"),
    ("llm_passthrough_route", "llm_passthrough_route"),
    ("allm_passthrough_route", "allm_passthrough_route"),
    ("generate_content", "generate_content"),
    ("agenerate_content", "agenerate_content"),
    ("generate_content_stream", "generate_content_stream"),
    ("agenerate_content_stream", "agenerate_content_stream"),
    ("ocr", "ocr"),
    ("aocr", "aocr"),
    ("call_mcp_tool", "call_mcp_tool"),
    ("list_mcp_tools", "list_mcp_tools"),
    ("asend_message", "asend_message"),
    ("send_message", "send_message"),
    ("acreate_skill", "acreate_skill"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litellm_call_types_name_every_kind_this_build_serves() {
        // LiteLLM counts tokens outside its `CallTypes` (no member names it).
        for kind in CallKind::ALL
            .into_iter()
            .filter(|k| *k != CallKind::CountTokens)
        {
            assert!(
                super::LITELLM_CALL_TYPES
                    .iter()
                    .any(|(_, value)| *value == kind.call_type()),
                "{kind}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for kind in CallKind::ALL {
            assert_eq!(CallKind::from_call_type(kind.call_type()), Some(kind));
            assert_eq!(CallKind::from_call_type(kind.async_call_type()), Some(kind));
        }
        assert_eq!(CallKind::from_call_type("nope"), None);
    }
}
