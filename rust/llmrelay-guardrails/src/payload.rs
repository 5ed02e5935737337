//! What a guardrail inspects: the canonical request or response, and its texts in a fixed order.

use serde_json::Value;

use llmrelay_core::types::{
    ChatMessage, ChatRequest, ChatResponse, EmbeddingRequest, MessageContent, Role,
    TextCompletionRequest,
};

/// The request of a call, borrowed mutably so pre-call guardrails can mask it in place.
#[derive(Debug)]
pub enum RequestPayload<'a> {
    Chat(&'a mut ChatRequest),
    Embedding(&'a mut EmbeddingRequest),
    TextCompletion(&'a mut TextCompletionRequest),
}

/// Which part of a message a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Message content (a string, or one text part).
    Content,
    /// A tool call's JSON arguments.
    ToolArguments,
    /// An embedding `input` or a completion `prompt` item.
    Input,
}

/// One text of a payload, with where it came from.
#[derive(Debug)]
pub struct TextSlot<'t> {
    /// The message's role (`None` for embedding / completion input).
    pub role: Option<Role>,
    pub kind: TextKind,
    /// Index of the message (or input item) it belongs to.
    pub index: usize,
    pub text: &'t mut String,
}

fn role_selected(roles: Option<&[Role]>, role: Role) -> bool {
    roles.is_none_or(|roles| roles.contains(&role))
}

fn visit_message<E>(
    message: &mut ChatMessage,
    index: usize,
    visit: &mut dyn FnMut(TextSlot<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let role = Some(message.role);
    match &mut message.content {
        Some(MessageContent::Text(text)) => visit(TextSlot {
            role,
            kind: TextKind::Content,
            index,
            text,
        })?,
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                if let Some(text) = part.text.as_mut() {
                    visit(TextSlot {
                        role,
                        kind: TextKind::Content,
                        index,
                        text,
                    })?;
                }
            }
        }
        None => {}
    }
    if let Some(calls) = message.tool_calls.as_mut() {
        for call in calls {
            visit(TextSlot {
                role,
                kind: TextKind::ToolArguments,
                index,
                text: &mut call.function.arguments,
            })?;
        }
    }
    Ok(())
}

fn visit_input<E>(
    value: &mut Value,
    visit: &mut dyn FnMut(TextSlot<'_>) -> Result<(), E>,
) -> Result<(), E> {
    match value {
        Value::String(text) => visit(TextSlot {
            role: None,
            kind: TextKind::Input,
            index: 0,
            text,
        }),
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                if let Value::String(text) = item {
                    visit(TextSlot {
                        role: None,
                        kind: TextKind::Input,
                        index,
                        text,
                    })?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

impl RequestPayload<'_> {
    /// Visits every text (message contents and tool-call arguments in message order; embedding
    /// and completion inputs in item order). `roles` restricts the messages visited.
    ///
    /// # Errors
    /// Whatever `visit` returns; visiting stops there.
    pub fn for_each_text<E>(
        &mut self,
        roles: Option<&[Role]>,
        visit: &mut dyn FnMut(TextSlot<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Self::Chat(request) => {
                for (index, message) in request.messages.iter_mut().enumerate() {
                    if role_selected(roles, message.role) {
                        visit_message(message, index, visit)?;
                    }
                }
                Ok(())
            }
            Self::Embedding(request) => visit_input(&mut request.input, visit),
            Self::TextCompletion(request) => visit_input(&mut request.prompt, visit),
        }
    }

    /// Copies of every text with its role, in visiting order.
    #[must_use]
    pub fn collect_texts(
        &mut self,
        roles: Option<&[Role]>,
    ) -> Vec<(Option<Role>, TextKind, String)> {
        let mut texts = Vec::new();
        let _ = self.for_each_text::<()>(roles, &mut |slot| {
            texts.push((slot.role, slot.kind, slot.text.clone()));
            Ok(())
        });
        texts
    }

    /// Replaces every text with the next of `texts` (in visiting order); extra texts are ignored.
    pub fn replace_texts(&mut self, roles: Option<&[Role]>, texts: &[String]) {
        let mut next = texts.iter();
        let _ = self.for_each_text::<()>(roles, &mut |slot| {
            if let Some(text) = next.next() {
                if slot.text != text {
                    slot.text.clone_from(text);
                }
            }
            Ok(())
        });
    }

    /// The chat request, if this is one.
    #[must_use]
    pub fn chat(&self) -> Option<&ChatRequest> {
        match self {
            Self::Chat(request) => Some(request),
            _ => None,
        }
    }

    /// The chat request, mutably.
    pub fn chat_mut(&mut self) -> Option<&mut ChatRequest> {
        match self {
            Self::Chat(request) => Some(request),
            _ => None,
        }
    }

    /// The model asked for.
    #[must_use]
    pub fn model(&self) -> &str {
        match self {
            Self::Chat(request) => &request.model,
            Self::Embedding(request) => &request.model,
            Self::TextCompletion(request) => &request.model,
        }
    }
}

/// The request of a call, borrowed immutably (during-call checks run beside the upstream call,
/// which reads the request too).
#[derive(Debug, Clone, Copy)]
pub enum RequestRef<'a> {
    Chat(&'a ChatRequest),
    Embedding(&'a EmbeddingRequest),
    TextCompletion(&'a TextCompletionRequest),
}

impl RequestRef<'_> {
    /// A copy of the request.
    #[must_use]
    pub fn to_owned_request(&self) -> OwnedRequest {
        match self {
            Self::Chat(request) => OwnedRequest::Chat(Box::new((*request).clone())),
            Self::Embedding(request) => OwnedRequest::Embedding((*request).clone()),
            Self::TextCompletion(request) => OwnedRequest::TextCompletion((*request).clone()),
        }
    }
}

/// An owned request (for during-call copies and logging-only masking).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedRequest {
    Chat(Box<ChatRequest>),
    Embedding(EmbeddingRequest),
    TextCompletion(TextCompletionRequest),
}

impl OwnedRequest {
    /// A mutable view of it.
    pub fn as_payload(&mut self) -> RequestPayload<'_> {
        match self {
            Self::Chat(request) => RequestPayload::Chat(request),
            Self::Embedding(request) => RequestPayload::Embedding(request),
            Self::TextCompletion(request) => RequestPayload::TextCompletion(request),
        }
    }
}

impl RequestPayload<'_> {
    /// An immutable view of the request.
    #[must_use]
    pub fn as_ref(&self) -> RequestRef<'_> {
        match self {
            Self::Chat(request) => RequestRef::Chat(request),
            Self::Embedding(request) => RequestRef::Embedding(request),
            Self::TextCompletion(request) => RequestRef::TextCompletion(request),
        }
    }

    /// A copy of the request.
    #[must_use]
    pub fn to_owned_request(&self) -> OwnedRequest {
        self.as_ref().to_owned_request()
    }
}

/// Visits the texts of a whole answer: each choice's content, then its tool-call arguments.
///
/// # Errors
/// Whatever `visit` returns; visiting stops there.
pub fn for_each_response_text<E>(
    response: &mut ChatResponse,
    visit: &mut dyn FnMut(TextSlot<'_>) -> Result<(), E>,
) -> Result<(), E> {
    for choice in &mut response.choices {
        let index = usize::try_from(choice.index).unwrap_or(usize::MAX);
        if let Some(text) = choice.message.content.as_mut() {
            visit(TextSlot {
                role: Some(Role::Assistant),
                kind: TextKind::Content,
                index,
                text,
            })?;
        }
        if let Some(calls) = choice.message.tool_calls.as_mut() {
            for call in calls {
                visit(TextSlot {
                    role: Some(Role::Assistant),
                    kind: TextKind::ToolArguments,
                    index,
                    text: &mut call.function.arguments,
                })?;
            }
        }
    }
    Ok(())
}

/// Copies of an answer's texts, in visiting order.
#[must_use]
pub fn collect_response_texts(response: &mut ChatResponse) -> Vec<String> {
    let mut texts = Vec::new();
    let _ = for_each_response_text::<()>(response, &mut |slot| {
        texts.push(slot.text.clone());
        Ok(())
    });
    texts
}

/// Replaces an answer's texts in visiting order.
pub fn replace_response_texts(response: &mut ChatResponse, texts: &[String]) {
    let mut next = texts.iter();
    let _ = for_each_response_text::<()>(response, &mut |slot| {
        if let Some(text) = next.next() {
            if slot.text != text {
                slot.text.clone_from(text);
            }
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_are_visited_in_order_and_replaced() {
        let mut request: ChatRequest = serde_json::from_value(json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": "http://x"}, {"type": "text", "text": "b"}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"q\":1}"}}]},
                {"role": "tool", "tool_call_id": "c", "content": "42"}
            ]
        }))
        .unwrap();
        let mut payload = RequestPayload::Chat(&mut request);
        let texts = payload.collect_texts(None);
        let plain: Vec<&str> = texts.iter().map(|(_, _, text)| text.as_str()).collect();
        assert_eq!(plain, ["sys", "a", "b", "{\"q\":1}", "42"]);
        assert_eq!(texts[3].1, TextKind::ToolArguments);
        let users = payload.collect_texts(Some(&[Role::User]));
        assert_eq!(users.len(), 2);
        payload.replace_texts(Some(&[Role::User]), &["A".to_owned(), "B".to_owned()]);
        assert_eq!(request.messages[1].content.as_ref().unwrap().text(), "AB");
        assert_eq!(request.messages[0].content.as_ref().unwrap().text(), "sys");
    }

    #[test]
    fn embedding_inputs_are_texts() {
        let mut request: EmbeddingRequest =
            serde_json::from_value(json!({"model": "e", "input": ["x", "y", [1, 2]]})).unwrap();
        let mut payload = RequestPayload::Embedding(&mut request);
        assert_eq!(payload.collect_texts(None).len(), 2);
        payload.replace_texts(None, &["X".to_owned()]);
        assert_eq!(request.input, json!(["X", "y", [1, 2]]));
    }
}
