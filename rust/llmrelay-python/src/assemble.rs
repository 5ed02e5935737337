//! `stream_chunk_builder` for Python: chunk objects or dicts in, the assembled response dict out
//! (the rules are `llmrelay_core::assemble`'s; this module only converts).
//!
//! Python callers hand over looser data than the engine's canonical chunks, so before a chunk is
//! typed: `null`s in scalar positions count as absent, list-of-parts `content` becomes its text,
//! non-string tool-call arguments become `json.dumps` of them, and a tool-call fragment without
//! `index` continues the last call unless its `id` is new. On the way out, what Python leaves
//! `None` stays `None` (`created`, `model`, a tool call's `name`), and a usage taken from a chunk
//! keeps every field that chunk had, not only the canonical ones.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use pythonize::pythonize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use llmrelay_core::Error;
use llmrelay_core::assemble::{
    ChatAssembler, CountTokens, MessageTokenCounter, TextAssembler, usage_is_reported,
};
use llmrelay_core::types::{ChatChunk, TextCompletionResponse};

use crate::errors::to_py_err;
use crate::json_err;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(assemble_stream, m)?)
}

/// Rebuild one response from stream `chunks` (chat or text-completion chunk dicts or response
/// objects, no `None`). `count_tokens=True` counts usage the stream did not report with the
/// engine's token counter (the first chunk's model and `messages`); `token_hook(messages, text)
/// -> (prompt_tokens, completion_tokens)` counts it instead. Returns `("chat" | "text",
/// response dict)`, or `None` for no chunks.
#[pyfunction]
#[pyo3(signature = (chunks, messages=None, *, count_tokens=false, token_hook=None))]
fn assemble_stream<'py>(
    py: Python<'py>,
    chunks: &Bound<'py, PyAny>,
    messages: Option<Bound<'py, PyAny>>,
    count_tokens: bool,
    token_hook: Option<Bound<'py, PyAny>>,
) -> PyResult<Option<(&'static str, Bound<'py, PyAny>)>> {
    let mut chunks = chunks.try_iter()?.enumerate();
    let Some((_, first)) = chunks.next() else {
        return Ok(None);
    };
    let mut reader = JsonReader::new(py)?;
    let first = reader.chunk(&first?)?;
    let messages = messages.unwrap_or_else(|| py.None().into_bound(py));
    let mut counting = match token_hook.filter(|h| !h.is_none()) {
        Some(hook) => Counting::Hook(HookCounter {
            hook,
            messages,
            error: None,
        }),
        None if count_tokens => Counting::Engine(EngineCounter {
            messages,
            converted: None,
        }),
        None => Counting::Off,
    };
    let (kind, response) = if is_text_completion(&first) {
        let mut stream = TextStream::new(&first);
        stream.push(0, first)?;
        for (position, chunk) in chunks {
            stream.push(position, reader.chunk(&chunk?)?)?;
        }
        let response = stream.finish(counting.counter());
        ("text", response)
    } else {
        let mut stream = ChatStream::new(&first);
        stream.push(py, 0, first)?;
        for (position, chunk) in chunks {
            stream.push(py, position, reader.chunk(&chunk?)?)?;
        }
        let response = stream.finish(counting.counter());
        ("chat", response)
    };
    counting.take_error()?;
    let Some(response) = response else {
        return Ok(None);
    };
    let response = pythonize(py, &response).map_err(|e| json_err(&e))?;
    Ok(Some((kind, response)))
}

// ---------------------------------------------------------------------------------------------
// Chunks in
// ---------------------------------------------------------------------------------------------

/// Reads Python values as JSON: dicts, lists, tuples and scalars as they are; llmrelay's response
/// objects as their stored fields plus their class defaults that are not `None` (what attribute
/// access reads, `None` and absent being the same to the assembler), without dumping them;
/// other objects (LiteLLM's pydantic models) through their full `model_dump()`.
struct JsonReader<'py> {
    /// `llmrelay._base._Base`.
    base: Bound<'py, PyAny>,
    /// Per response class met so far, its defaults that are not `None`.
    class_defaults: Vec<ClassDefaults<'py>>,
}

struct ClassDefaults<'py> {
    class: Bound<'py, PyType>,
    values: Vec<(String, Value)>,
}

impl<'py> JsonReader<'py> {
    fn new(py: Python<'py>) -> PyResult<Self> {
        Ok(Self {
            base: py.import("llmrelay._base")?.getattr("_Base")?,
            class_defaults: Vec::new(),
        })
    }

    /// A chunk. Its usage reads as the fields it has set (a pydantic usage is dumped with
    /// `exclude_unset`), so the assembled usage is a copy of it.
    fn chunk(&mut self, chunk: &Bound<'py, PyAny>) -> PyResult<Value> {
        let mut value = self.read(chunk)?;
        if chunk.is_instance_of::<PyDict>() || chunk.is_instance(&self.base)? {
            return Ok(value);
        }
        if let Some(usage) = chunk.getattr_opt("usage")?.filter(|u| !u.is_none())
            && !usage.is_instance_of::<PyDict>()
            && usage.hasattr("model_dump")?
            && let Value::Object(object) = &mut value
        {
            let options = PyDict::new(chunk.py());
            options.set_item("exclude_unset", true)?;
            let dumped = usage.call_method("model_dump", (), Some(&options))?;
            object.insert("usage".to_owned(), self.read(&dumped)?);
        }
        Ok(value)
    }

    fn read(&mut self, value: &Bound<'py, PyAny>) -> PyResult<Value> {
        if value.is_none() {
            return Ok(Value::Null);
        }
        if let Ok(text) = value.cast::<PyString>() {
            return Ok(Value::String(text.to_str()?.to_owned()));
        }
        if let Ok(dict) = value.cast::<PyDict>() {
            return self.read_dict(dict, false).map(Value::Object);
        }
        if let Ok(flag) = value.cast::<PyBool>() {
            return Ok(Value::Bool(flag.is_true()));
        }
        if value.is_instance_of::<PyInt>() {
            if let Ok(number) = value.extract::<i64>() {
                return Ok(Value::from(number));
            }
            if let Ok(number) = value.extract::<u64>() {
                return Ok(Value::from(number));
            }
            return Ok(float_value(value.extract::<f64>()?));
        }
        if let Ok(number) = value.cast::<PyFloat>() {
            return Ok(float_value(number.value()));
        }
        if let Ok(list) = value.cast::<PyList>() {
            return list.iter().map(|item| self.read(&item)).collect();
        }
        if let Ok(tuple) = value.cast::<PyTuple>() {
            return tuple.iter().map(|item| self.read(&item)).collect();
        }
        if value.is_instance(&self.base)? {
            let fields = value.getattr("__dict__")?;
            let mut object = self.read_dict(fields.cast::<PyDict>()?, true)?;
            let class = self.defaults_of(&value.get_type())?;
            for (key, default) in &self.class_defaults[class].values {
                if !object.contains_key(key) {
                    object.insert(key.clone(), default.clone());
                }
            }
            return Ok(Value::Object(object));
        }
        if value.hasattr("model_dump")? {
            let options = PyDict::new(value.py());
            options.set_item("exclude_unset", false)?;
            let dumped = value.call_method("model_dump", (), Some(&options))?;
            if dumped.is_instance_of::<PyDict>() {
                return self.read(&dumped);
            }
        }
        Err(PyTypeError::new_err(format!(
            "stream_chunk_builder: cannot read a {} as JSON",
            value.get_type().name()?
        )))
    }

    /// `fields` skips private names (`_hidden_params`, ...), as dumps do.
    fn read_dict(
        &mut self,
        dict: &Bound<'py, PyDict>,
        fields: bool,
    ) -> PyResult<Map<String, Value>> {
        let mut object = Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let key = match key.cast::<PyString>() {
                Ok(key) => key.to_str()?.to_owned(),
                Err(_) => key.str()?.to_str()?.to_owned(),
            };
            if fields && key.starts_with('_') {
                continue;
            }
            let item = self.read(&item)?;
            object.insert(key, item);
        }
        Ok(object)
    }

    /// Where in `class_defaults` the class's `_always` and `_defaults` values that are not
    /// `None` are (see `llmrelay._base`).
    fn defaults_of(&mut self, class: &Bound<'py, PyType>) -> PyResult<usize> {
        if let Some(position) = self.class_defaults.iter().position(|c| c.class.is(class)) {
            return Ok(position);
        }
        let mut values = Vec::new();
        for table in ["_always", "_defaults"] {
            let Some(table) = class.getattr_opt(table)? else {
                continue;
            };
            for (key, value) in table.cast::<PyDict>()?.iter() {
                if !value.is_none() {
                    values.push((key.extract::<String>()?, self.read(&value)?));
                }
            }
        }
        self.class_defaults.push(ClassDefaults {
            class: class.clone(),
            values,
        });
        Ok(self.class_defaults.len() - 1)
    }
}

fn float_value(number: f64) -> Value {
    Number::from_f64(number).map_or(Value::Null, Value::Number)
}

/// `object` says it (`text_completion…`), or, without one, the first choice has `text` and no
/// `delta`.
fn is_text_completion(chunk: &Value) -> bool {
    if let Some(Value::String(object)) = chunk.get("object") {
        return object.starts_with("text_completion");
    }
    chunk
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|choices| choices.first())
        .is_some_and(|choice| {
            choice.get("delta").is_none_or(Value::is_null)
                && choice.get("text").is_some_and(Value::is_string)
        })
}

fn strip_nulls(value: &mut Value) {
    if let Value::Object(object) = value {
        object.retain(|_, v| !v.is_null());
    }
}

fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(object) => !object.is_empty(),
    }
}

fn choice_index(choice: &Value) -> u32 {
    choice
        .get("index")
        .and_then(Value::as_u64)
        .and_then(|i| u32::try_from(i).ok())
        .unwrap_or(0)
}

fn typed<T: DeserializeOwned>(chunk: Value, position: usize, kind: &str) -> PyResult<T> {
    serde_path_to_error::deserialize(chunk).map_err(|error| {
        let path = error.path().to_string();
        to_py_err(
            &Error::bad_request(format!(
                "stream_chunk_builder: chunk {position} is not a valid {kind} chunk: {path}: {}",
                error.inner()
            ))
            .with_param("chunks"),
        )
    })
}

/// What a first chunk lacked comes back as `None`, so Python fills its own defaults.
struct MissingHeader {
    created: bool,
    model: bool,
}

impl MissingHeader {
    fn of(first: &Value) -> Self {
        let missing = |key: &str| first.get(key).is_none_or(Value::is_null);
        Self {
            created: missing("created"),
            model: missing("model"),
        }
    }

    fn apply(&self, response: &mut Value) {
        if let Value::Object(response) = response {
            if self.created {
                response.insert("created".to_owned(), Value::Null);
            }
            if self.model {
                response.insert("model".to_owned(), Value::Null);
            }
        }
    }
}

/// The fields of LiteLLM's `CompletionTokensDetailsWrapper`, all present in the details LiteLLM
/// builds itself.
const COMPLETION_DETAILS_FIELDS: [&str; 7] = [
    "accepted_prediction_tokens",
    "audio_tokens",
    "reasoning_tokens",
    "rejected_prediction_tokens",
    "text_tokens",
    "image_tokens",
    "video_tokens",
];

/// The response's usage as Python expects it. Taken from a chunk (`raw`), it keeps every field
/// the chunk had (canonical `Usage` keeps only some token-detail fields) plus what the assembler
/// added; `completion_tokens_details` the assembler built lists all of LiteLLM's fields.
fn finish_usage(response: &mut Value, raw: Option<Value>) {
    let Some(Value::Object(assembled)) = response.get_mut("usage") else {
        return;
    };
    let mut built_details = true;
    if let Some(Value::Object(mut raw)) = raw {
        built_details = raw
            .get("completion_tokens_details")
            .is_none_or(Value::is_null);
        for (key, value) in std::mem::take(assembled) {
            if raw.get(&key).is_none_or(Value::is_null) {
                raw.insert(key, value);
            }
        }
        *assembled = raw;
    }
    if built_details
        && let Some(Value::Object(details)) = assembled.get_mut("completion_tokens_details")
    {
        let mut full = Map::with_capacity(COMPLETION_DETAILS_FIELDS.len());
        for field in COMPLETION_DETAILS_FIELDS {
            full.insert(
                field.to_owned(),
                details.remove(field).unwrap_or(Value::Null),
            );
        }
        *details = full;
    }
}

// ---------------------------------------------------------------------------------------------
// Chat
// ---------------------------------------------------------------------------------------------

/// A tool call seen in a choice: its index and the first id a fragment gave it.
struct SeenCall {
    index: u32,
    id: Option<String>,
}

/// The tool calls seen per choice index, in the order they appeared.
#[derive(Default)]
struct ToolCallIndexes {
    choices: Vec<(u32, Vec<SeenCall>)>,
}

/// Indexes given to fragments without one; far above any index a provider sends.
const UNINDEXED_CALLS: u32 = 1 << 31;

impl ToolCallIndexes {
    /// Gives a fragment without `index` one: a new `id` starts a new call, anything else
    /// continues the last call.
    fn resolve(&mut self, choice: u32, fragment: &mut Map<String, Value>) {
        let position = match self.choices.iter().position(|(c, _)| *c == choice) {
            Some(position) => position,
            None => {
                self.choices.push((choice, Vec::new()));
                self.choices.len() - 1
            }
        };
        let calls = &mut self.choices[position].1;
        let id = fragment
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        let index = match fragment.get("index") {
            Some(index) => match index.as_u64().and_then(|i| u32::try_from(i).ok()) {
                Some(index) => index,
                // Not an index: typing the chunk reports it.
                None => return,
            },
            None => {
                let is_new = |id: &String| calls.iter().all(|call| call.id.as_ref() != Some(id));
                let index = match (&id, calls.last()) {
                    (Some(id), _) if is_new(id) => {
                        UNINDEXED_CALLS + u32::try_from(calls.len()).unwrap_or(0)
                    }
                    (_, Some(last)) => last.index,
                    (_, None) => UNINDEXED_CALLS,
                };
                fragment.insert("index".to_owned(), Value::from(index));
                index
            }
        };
        match calls.iter_mut().find(|call| call.index == index) {
            Some(call) => {
                if call.id.is_none() {
                    call.id = id;
                }
            }
            None => calls.push(SeenCall { index, id }),
        }
    }
}

struct ChatStream {
    assembler: ChatAssembler,
    missing: MissingHeader,
    tool_indexes: ToolCallIndexes,
    usage: Option<Value>,
}

impl ChatStream {
    fn new(first: &Value) -> Self {
        Self {
            assembler: ChatAssembler::new(),
            missing: MissingHeader::of(first),
            tool_indexes: ToolCallIndexes::default(),
            usage: None,
        }
    }

    fn push(&mut self, py: Python<'_>, position: usize, mut chunk: Value) -> PyResult<()> {
        strip_nulls(&mut chunk);
        if let Some(Value::Array(choices)) = chunk.get_mut("choices") {
            for choice in choices {
                strip_nulls(choice);
                let index = choice_index(choice);
                if let Some(delta) = choice.get_mut("delta") {
                    self.loosen_delta(py, index, delta)?;
                }
            }
        }
        if let Some(usage) = chunk.get_mut("usage") {
            strip_nulls(usage);
            self.usage = Some(usage.clone());
        }
        let chunk: ChatChunk = typed(chunk, position, "chat.completion")?;
        self.assembler.push(&chunk);
        Ok(())
    }

    fn loosen_delta(&mut self, py: Python<'_>, choice: u32, delta: &mut Value) -> PyResult<()> {
        if let Some(content @ Value::Array(_)) = delta.get_mut("content") {
            let text: String = content
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect();
            *content = Value::String(text);
        }
        let Some(Value::Array(calls)) = delta.get_mut("tool_calls") else {
            return Ok(());
        };
        for call in calls {
            strip_nulls(call);
            if let Some(arguments) = call
                .get_mut("function")
                .and_then(|function| function.get_mut("arguments"))
                .filter(|arguments| !arguments.is_string() && !arguments.is_null())
            {
                *arguments = if is_truthy(arguments) {
                    Value::String(python_json_dumps(py, arguments)?)
                } else {
                    Value::Null
                };
            }
            if let Value::Object(call) = call {
                self.tool_indexes.resolve(choice, call);
            }
        }
        Ok(())
    }

    fn finish(self, counter: Option<&mut dyn CountTokens>) -> Option<Value> {
        let response = self.assembler.finish(counter)?;
        let mut response = serde_json::to_value(&response).ok()?;
        self.missing.apply(&mut response);
        // A fragment never sets an empty name, so an empty one is an unknown one.
        if let Some(Value::Array(choices)) = response.get_mut("choices") {
            for choice in choices {
                let calls = choice
                    .pointer_mut("/message/tool_calls")
                    .and_then(Value::as_array_mut);
                for call in calls.into_iter().flatten() {
                    if let Some(name) = call.pointer_mut("/function/name")
                        && name.as_str() == Some("")
                    {
                        *name = Value::Null;
                    }
                }
            }
        }
        finish_usage(&mut response, self.usage);
        Some(response)
    }
}

/// `json.dumps(value)`, as LiteLLM writes non-string tool arguments.
fn python_json_dumps(py: Python<'_>, value: &Value) -> PyResult<String> {
    let value = pythonize(py, value).map_err(|e| json_err(&e))?;
    py.import("json")?
        .call_method1("dumps", (value,))?
        .extract::<String>()
}

// ---------------------------------------------------------------------------------------------
// Text completions
// ---------------------------------------------------------------------------------------------

struct TextStream {
    assembler: TextAssembler,
    missing: MissingHeader,
    usage: Option<Value>,
}

impl TextStream {
    fn new(first: &Value) -> Self {
        Self {
            assembler: TextAssembler::new(),
            missing: MissingHeader::of(first),
            usage: None,
        }
    }

    fn push(&mut self, position: usize, mut chunk: Value) -> PyResult<()> {
        strip_nulls(&mut chunk);
        if let Some(Value::Array(choices)) = chunk.get_mut("choices") {
            choices.iter_mut().for_each(strip_nulls);
        }
        let usage = chunk.get_mut("usage").map(|usage| {
            strip_nulls(usage);
            usage.clone()
        });
        let chunk: TextCompletionResponse = typed(chunk, position, "text_completion")?;
        if chunk.usage.as_ref().is_some_and(usage_is_reported) {
            self.usage = usage;
        }
        self.assembler.push(&chunk);
        Ok(())
    }

    fn finish(self, counter: Option<&mut dyn CountTokens>) -> Option<Value> {
        let response = self.assembler.finish(counter)?;
        let mut response = serde_json::to_value(&response).ok()?;
        self.missing.apply(&mut response);
        if let Value::Object(object) = &mut response {
            object.entry("system_fingerprint").or_insert(Value::Null);
        }
        finish_usage(&mut response, self.usage);
        Some(response)
    }
}

// ---------------------------------------------------------------------------------------------
// Token counting
// ---------------------------------------------------------------------------------------------

/// How usage a stream did not report is counted.
enum Counting<'py> {
    /// Not at all: usage only from chunks.
    Off,
    Engine(EngineCounter<'py>),
    Hook(HookCounter<'py>),
}

impl Counting<'_> {
    fn counter(&mut self) -> Option<&mut dyn CountTokens> {
        match self {
            Self::Off => None,
            Self::Engine(counter) => Some(counter),
            Self::Hook(counter) => Some(counter),
        }
    }

    /// The first exception the hook raised.
    fn take_error(&mut self) -> PyResult<()> {
        match self {
            Self::Hook(hook) => hook.error.take().map_or(Ok(()), Err),
            Self::Off | Self::Engine(_) => Ok(()),
        }
    }
}

/// The engine's counting ([`MessageTokenCounter`]); `messages` are converted on first use.
struct EngineCounter<'py> {
    messages: Bound<'py, PyAny>,
    converted: Option<Vec<Value>>,
}

impl EngineCounter<'_> {
    /// The messages as JSON; none when there are none or they cannot be read (LiteLLM then
    /// counts 0 prompt tokens).
    fn messages(&mut self) -> &[Value] {
        let messages = &self.messages;
        self.converted.get_or_insert_with(|| {
            if !messages.is_truthy().unwrap_or(false) {
                return Vec::new();
            }
            match JsonReader::new(messages.py()).and_then(|mut reader| reader.read(messages)) {
                Ok(Value::Array(messages)) => messages,
                _ => Vec::new(),
            }
        })
    }
}

impl CountTokens for EngineCounter<'_> {
    fn count_usage(&mut self, model: &str, completion_text: &str) -> (u64, u64) {
        let py = self.messages.py();
        let messages = self.messages();
        py.detach(|| MessageTokenCounter::new(messages).count_usage(model, completion_text))
    }

    fn count_reasoning(&mut self, model: &str, reasoning: &str) -> u64 {
        self.messages
            .py()
            .detach(|| MessageTokenCounter::new(&[]).count_reasoning(model, reasoning))
    }
}

/// The caller's `token_hook(messages, text) -> (prompt_tokens, completion_tokens)`, called with
/// `messages=None` for reasoning. Its first exception stops the counting and is raised.
struct HookCounter<'py> {
    hook: Bound<'py, PyAny>,
    messages: Bound<'py, PyAny>,
    error: Option<PyErr>,
}

impl HookCounter<'_> {
    fn call(&mut self, with_messages: bool, text: &str) -> (u64, u64) {
        if self.error.is_some() {
            return (0, 0);
        }
        let py = self.hook.py();
        let messages = if with_messages {
            self.messages.clone()
        } else {
            py.None().into_bound(py)
        };
        match self
            .hook
            .call1((messages, text))
            .and_then(|counts| counts.extract::<(u64, u64)>())
        {
            Ok(counts) => counts,
            Err(error) => {
                self.error = Some(error);
                (0, 0)
            }
        }
    }
}

impl CountTokens for HookCounter<'_> {
    fn count_usage(&mut self, _model: &str, completion_text: &str) -> (u64, u64) {
        self.call(true, completion_text)
    }

    fn count_reasoning(&mut self, _model: &str, reasoning: &str) -> u64 {
        self.call(false, reasoning).1
    }
}
