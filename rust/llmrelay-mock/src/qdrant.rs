//! Qdrant's REST API, in memory: collections, payload indexes, points (upsert, retrieve,
//! delete by ids or filter) and vector search with filters and `score_threshold`, for the
//! `qdrant-semantic` response cache. Requests are recorded like every route (`GET
//! /__mock/requests`) and a scripted response for a path replaces the answer (a failing
//! Qdrant); the collections are readable from Rust through [`MockState::qdrant_points`].
//!
//! Follows Qdrant's API reference (v1.17.x, <https://api.qdrant.tech/api-reference>):
//! "Collections" → create-collection (`PUT /collections/{name}`), collection-exists (`GET
//! /collections/{name}/exists`), get-collection, delete-collection; "Indexes" →
//! create-field-index (`PUT /collections/{name}/index`); "Points" → upsert-points (`PUT
//! /collections/{name}/points`), get-points (`POST /collections/{name}/points`), get-point,
//! delete-points (`POST /collections/{name}/points/delete`); "Search" → points (`POST
//! /collections/{name}/points/search`); the filtering guide
//! (<https://qdrant.tech/documentation/concepts/filtering/>: `must` / `should` / `must_not`,
//! `match` `value` / `any` / `except`, `range`, `is_empty`, `is_null`, `has_id`, nested
//! filters); and "Solving common errors" (<https://qdrant.tech/documentation/common-errors/>)
//! for the 401 answers. Every answer is `{"result": …, "status": "ok", "time": seconds}`; an
//! error is `{"status": {"error": "…"}, "time": seconds}` with Qdrant's status (400 for a
//! body that does not parse or a wrong vector size, 404 for a missing collection or point,
//! 409 for a collection created twice, 401 without the key a mock started with
//! `qdrant_api_key` expects in `api-key` or `Authorization: Bearer`).
//!
//! Only what the cache needs is emulated: unnamed dense vectors, `Cosine` and `Dot`
//! distances (quantization settings are kept and reported, scores are exact, as with
//! `rescore`), no `batch` upserts, no query API.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming};

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/collections", get(list_collections))
        .route("/collections/{name}/exists", get(collection_exists))
        .route(
            "/collections/{name}",
            get(collection_info)
                .put(create_collection)
                .delete(delete_collection),
        )
        .route("/collections/{name}/index", put(create_index))
        .route(
            "/collections/{name}/points",
            put(upsert_points).post(retrieve_points),
        )
        .route("/collections/{name}/points/search", post(search_points))
        .route("/collections/{name}/points/delete", post(delete_points))
        .route("/collections/{name}/points/{id}", get(retrieve_point))
}

/// The collections of a mock server.
#[derive(Debug, Default)]
pub(crate) struct Collections {
    by_name: HashMap<String, Collection>,
    operations: u64,
}

impl Collections {
    pub(crate) fn clear(&mut self) {
        self.by_name.clear();
    }
}

#[derive(Debug)]
struct Collection {
    size: usize,
    distance: Distance,
    quantization: Value,
    /// Field name → schema (`keyword`, `integer`, …).
    indexes: BTreeMap<String, Value>,
    /// By the id's text (an integer, or a UUID in lowercase hyphenated form).
    points: BTreeMap<String, Point>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Distance {
    Cosine,
    Dot,
}

#[derive(Debug, Clone)]
struct Point {
    id: Value,
    /// Unit length for `Cosine` collections (Qdrant normalizes on the way in).
    vector: Vec<f32>,
    payload: Map<String, Value>,
    version: u64,
}

/// A point as [`MockState::qdrant_points`] hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct QdrantPoint {
    /// An unsigned integer or a UUID string, as Qdrant returns it.
    pub id: Value,
    pub vector: Vec<f32>,
    pub payload: Map<String, Value>,
}

impl MockState {
    /// The points of the mock Qdrant collection `name` (`None` when it does not exist), in
    /// id order.
    #[must_use]
    pub fn qdrant_points(&self, name: &str) -> Option<Vec<QdrantPoint>> {
        let collections = self.qdrant.lock().unwrap_or_else(PoisonError::into_inner);
        let collection = collections.by_name.get(name)?;
        Some(
            collection
                .points
                .values()
                .map(|point| QdrantPoint {
                    id: point.id.clone(),
                    vector: point.vector.clone(),
                    payload: point.payload.clone(),
                })
                .collect(),
        )
    }
}

/// A failed request as Qdrant reports it.
struct Failure {
    status: StatusCode,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn format(message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("Format error in JSON body: {message}"),
        )
    }

    fn wrong_input(message: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, format!("Wrong input: {message}"))
    }

    fn no_collection(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("Not found: Collection `{name}` doesn't exist!"),
        )
    }
}

type Answer = Result<Value, Failure>;

/// Record the request, replay a script, check the key, then answer with `handle`'s result
/// in Qdrant's envelope.
async fn serve(
    state: &MockState,
    incoming: &Incoming,
    handle: impl FnOnce(&mut Collections, Option<&Value>) -> Answer,
) -> Response {
    let started = Instant::now();
    let exchange = match Exchange::begin(
        state,
        Dialect::Ollama,
        &incoming.method,
        &incoming.uri,
        &incoming.headers,
        &incoming.body,
    )
    .await
    {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let answer = match authorize(&exchange, &incoming.headers) {
        Err(failure) => Err(failure),
        Ok(()) if !incoming.body.is_empty() && exchange.body.is_none() => {
            Err(Failure::format("expected a JSON object"))
        }
        Ok(()) => {
            let mut collections = state.qdrant.lock().unwrap_or_else(PoisonError::into_inner);
            handle(&mut collections, exchange.body.as_ref())
        }
    };
    let time = started.elapsed().as_secs_f64();
    let (status, body) = match answer {
        Ok(result) => (
            StatusCode::OK,
            json!({"result": result, "status": "ok", "time": time}),
        ),
        Err(failure) => (
            failure.status,
            json!({"status": {"error": failure.message}, "time": time}),
        ),
    };
    exchange
        .whole(status, serde_json::to_vec(&body).unwrap_or_default())
        .await
}

/// The key of a mock started with `qdrant_api_key`, in `api-key` or as a bearer token.
fn authorize(exchange: &Exchange, headers: &axum::http::HeaderMap) -> Result<(), Failure> {
    let Some(expected) = exchange.config.qdrant_api_key.as_deref() else {
        return Ok(());
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let given = header("api-key")
        .or_else(|| header("authorization").and_then(|value| value.strip_prefix("Bearer ")));
    match given {
        None => Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: Must provide an API key or an Authorization bearer token",
        )),
        Some(key) if key == expected => Ok(()),
        Some(_) => Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: Invalid API key or JWT",
        )),
    }
}

fn body_object(body: Option<&Value>) -> Result<&Map<String, Value>, Failure> {
    body.and_then(Value::as_object)
        .ok_or_else(|| Failure::format("EOF while parsing a value at line 1 column 0"))
}

fn collection<'a>(
    collections: &'a mut Collections,
    name: &str,
) -> Result<&'a mut Collection, Failure> {
    collections
        .by_name
        .get_mut(name)
        .ok_or_else(|| Failure::no_collection(name))
}

/// The `UpdateResult` of a write.
fn update_result(collections: &mut Collections) -> Value {
    collections.operations += 1;
    json!({"operation_id": collections.operations, "status": "completed"})
}

async fn list_collections(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    serve(&state, &incoming, |collections, _| {
        let mut names: Vec<&String> = collections.by_name.keys().collect();
        names.sort();
        let names: Vec<Value> = names.iter().map(|name| json!({"name": name})).collect();
        Ok(json!({"collections": names}))
    })
    .await
}

async fn collection_exists(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, _| {
        Ok(json!({"exists": collections.by_name.contains_key(&name)}))
    })
    .await
}

async fn collection_info(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, _| {
        let collection = collection(collections, &name)?;
        let distance = match collection.distance {
            Distance::Cosine => "Cosine",
            Distance::Dot => "Dot",
        };
        let schema: Map<String, Value> = collection
            .indexes
            .iter()
            .map(|(field, schema)| {
                let points = collection
                    .points
                    .values()
                    .filter(|p| p.payload.contains_key(field))
                    .count();
                (
                    field.clone(),
                    json!({"data_type": schema, "points": points}),
                )
            })
            .collect();
        Ok(json!({
            "status": "green",
            "optimizer_status": "ok",
            "indexed_vectors_count": 0,
            "points_count": collection.points.len(),
            "segments_count": 1,
            "config": {
                "params": {
                    "vectors": {"size": collection.size, "distance": distance},
                    "shard_number": 1,
                    "replication_factor": 1,
                    "write_consistency_factor": 1,
                    "on_disk_payload": true,
                },
                "quantization_config": collection.quantization,
            },
            "payload_schema": schema,
        }))
    })
    .await
}

async fn create_collection(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, body| {
        let body = body_object(body)?;
        let vectors = body
            .get("vectors")
            .and_then(Value::as_object)
            .ok_or_else(|| Failure::format("missing field `vectors`"))?;
        let size = vectors
            .get("size")
            .and_then(Value::as_u64)
            .filter(|size| *size >= 1)
            .and_then(|size| usize::try_from(size).ok())
            .ok_or_else(|| Failure::format("`vectors.size` must be an integer of at least 1"))?;
        let distance = match vectors.get("distance").and_then(Value::as_str) {
            Some("Cosine") => Distance::Cosine,
            Some("Dot") => Distance::Dot,
            Some("Euclid" | "Manhattan") => {
                return Err(Failure::wrong_input(
                    "llmrelay-mock emulates the Cosine and Dot distances only",
                ));
            }
            _ => {
                return Err(Failure::format(
                    "unknown variant in `vectors.distance`, expected one of `Cosine`, \
                     `Euclid`, `Dot`, `Manhattan`",
                ));
            }
        };
        let quantization = body
            .get("quantization_config")
            .cloned()
            .unwrap_or(Value::Null);
        if !quantization_is_valid(&quantization) {
            return Err(Failure::format(
                "data did not match any variant of untagged enum QuantizationConfig",
            ));
        }
        if collections.by_name.contains_key(&name) {
            return Err(Failure::new(
                StatusCode::CONFLICT,
                format!("Wrong input: Collection `{name}` already exists!"),
            ));
        }
        collections.by_name.insert(
            name.clone(),
            Collection {
                size,
                distance,
                quantization,
                indexes: BTreeMap::new(),
                points: BTreeMap::new(),
            },
        );
        Ok(Value::Bool(true))
    })
    .await
}

/// `null`, or one of `scalar` / `product` / `binary` with their required settings.
fn quantization_is_valid(config: &Value) -> bool {
    let Some(config) = config.as_object() else {
        return config.is_null();
    };
    if config.len() != 1 {
        return false;
    }
    match (
        config.get("scalar"),
        config.get("product"),
        config.get("binary"),
    ) {
        (Some(scalar), None, None) => scalar.get("type").and_then(Value::as_str) == Some("int8"),
        (None, Some(product), None) => matches!(
            product.get("compression").and_then(Value::as_str),
            Some("x4" | "x8" | "x16" | "x32" | "x64")
        ),
        (None, None, Some(binary)) => binary.is_object(),
        _ => false,
    }
}

async fn delete_collection(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, _| {
        Ok(Value::Bool(collections.by_name.remove(&name).is_some()))
    })
    .await
}

const FIELD_SCHEMAS: &[&str] = &[
    "keyword", "integer", "float", "geo", "text", "bool", "datetime", "uuid",
];

async fn create_index(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, body| {
        let body = body_object(body)?;
        let field = body
            .get("field_name")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::format("missing field `field_name`"))?;
        let schema = body.get("field_schema").cloned().unwrap_or(Value::Null);
        let kind = schema
            .as_str()
            .or_else(|| schema.get("type").and_then(Value::as_str));
        if !kind.is_some_and(|kind| FIELD_SCHEMAS.contains(&kind)) {
            return Err(Failure::format(
                "data did not match any variant of untagged enum PayloadFieldSchema",
            ));
        }
        collection(collections, &name)?
            .indexes
            .insert(field.to_owned(), schema);
        Ok(update_result(collections))
    })
    .await
}

/// A point id's text: an unsigned integer, or a UUID (any form Qdrant accepts) in its
/// lowercase hyphenated form; the id as Qdrant returns it beside it.
fn point_id(id: &Value) -> Result<(String, Value), Failure> {
    let invalid = || {
        Failure::format(format!(
            "value {id} is not a valid point ID, valid values are either an unsigned integer \
             or a UUID"
        ))
    };
    match id {
        Value::Number(number) => {
            let number = number.as_u64().ok_or_else(invalid)?;
            Ok((number.to_string(), Value::from(number)))
        }
        Value::String(text) => {
            let uuid = uuid::Uuid::parse_str(text).map_err(|_| invalid())?;
            let text = uuid.hyphenated().to_string();
            Ok((text.clone(), Value::String(text)))
        }
        _ => Err(invalid()),
    }
}

fn vector_of(value: Option<&Value>, collection: &Collection) -> Result<Vec<f32>, Failure> {
    let values = value
        .and_then(Value::as_array)
        .ok_or_else(|| Failure::format("missing field `vector`"))?;
    let mut vector: Vec<f32> = values
        .iter()
        .map(|v| v.as_f64().map(|x| x as f32))
        .collect::<Option<_>>()
        .ok_or_else(|| Failure::format("a vector holds numbers only"))?;
    if vector.len() != collection.size {
        return Err(Failure::wrong_input(format!(
            "Vector dimension error: expected dim: {}, got {}",
            collection.size,
            vector.len()
        )));
    }
    if collection.distance == Distance::Cosine {
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in &mut vector {
                *x /= norm;
            }
        }
    }
    Ok(vector)
}

async fn upsert_points(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, body| {
        let body = body_object(body)?;
        let points = body
            .get("points")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Failure::format("llmrelay-mock takes `points` (a list of points), not `batch`")
            })?;
        let operation = collections.operations + 1;
        let collection = collection(collections, &name)?;
        let mut parsed = Vec::with_capacity(points.len());
        for point in points {
            let (key, id) = point_id(point.get("id").unwrap_or(&Value::Null))?;
            let vector = vector_of(point.get("vector"), collection)?;
            let payload = match point.get("payload") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(payload)) => payload.clone(),
                Some(_) => return Err(Failure::format("`payload` must be an object")),
            };
            parsed.push((
                key,
                Point {
                    id,
                    vector,
                    payload,
                    version: operation,
                },
            ));
        }
        collection.points.extend(parsed);
        Ok(update_result(collections))
    })
    .await
}

/// `with_payload`: `true` / `false`, a list of fields to include, or `{"include"}` /
/// `{"exclude"}`.
fn select_payload(payload: &Map<String, Value>, selector: &Value) -> Option<Value> {
    let pick = |fields: &[Value], keep: bool| {
        let names: Vec<&str> = fields.iter().filter_map(Value::as_str).collect();
        payload
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()) == keep)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Map<_, _>>()
    };
    match selector {
        Value::Bool(false) | Value::Null => None,
        Value::Array(fields) => Some(Value::Object(pick(fields, true))),
        Value::Object(selector) => match (selector.get("include"), selector.get("exclude")) {
            (Some(Value::Array(fields)), _) => Some(Value::Object(pick(fields, true))),
            (_, Some(Value::Array(fields))) => Some(Value::Object(pick(fields, false))),
            _ => Some(Value::Object(payload.clone())),
        },
        _ => Some(Value::Object(payload.clone())),
    }
}

fn record(point: &Point, with_payload: &Value, with_vector: bool) -> Value {
    let mut record = Map::new();
    record.insert("id".into(), point.id.clone());
    if let Some(payload) = select_payload(&point.payload, with_payload) {
        record.insert("payload".into(), payload);
    }
    if with_vector {
        record.insert("vector".into(), json!(point.vector));
    }
    Value::Object(record)
}

async fn retrieve_points(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, body| {
        let body = body_object(body)?;
        let ids = body
            .get("ids")
            .and_then(Value::as_array)
            .ok_or_else(|| Failure::format("missing field `ids`"))?;
        let with_payload = body
            .get("with_payload")
            .cloned()
            .unwrap_or(Value::Bool(true));
        let with_vector = body.get("with_vector").and_then(Value::as_bool) == Some(true);
        let collection = collection(collections, &name)?;
        let mut found = Vec::new();
        for id in ids {
            let (key, _) = point_id(id)?;
            if let Some(point) = collection.points.get(&key) {
                found.push(record(point, &with_payload, with_vector));
            }
        }
        Ok(Value::Array(found))
    })
    .await
}

async fn retrieve_point(
    State(state): State<Arc<MockState>>,
    Path((name, id)): Path<(String, String)>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, _| {
        let id_value = id
            .parse::<u64>()
            .map_or_else(|_| Value::String(id.clone()), Value::from);
        let (key, _) = point_id(&id_value)?;
        let collection = collection(collections, &name)?;
        collection
            .points
            .get(&key)
            .map(|point| record(point, &Value::Bool(true), true))
            .ok_or_else(|| {
                Failure::new(
                    StatusCode::NOT_FOUND,
                    format!("Not found: No point with id {id} found"),
                )
            })
    })
    .await
}

async fn search_points(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, body| {
        let body = body_object(body)?;
        let limit = body
            .get("limit")
            .ok_or_else(|| Failure::format("missing field `limit`"))?
            .as_u64()
            .and_then(|limit| usize::try_from(limit).ok())
            .ok_or_else(|| Failure::format("`limit` must be an unsigned integer"))?;
        let offset = body
            .get("offset")
            .and_then(Value::as_u64)
            .and_then(|offset| usize::try_from(offset).ok())
            .unwrap_or(0);
        let threshold = match body.get("score_threshold") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_f64()
                    .ok_or_else(|| Failure::format("`score_threshold` must be a number"))?,
            ),
        };
        let filter = match body.get("filter") {
            None | Some(Value::Null) => None,
            Some(filter) => Some(Filter::parse(filter)?),
        };
        let with_payload = body.get("with_payload").cloned().unwrap_or(Value::Null);
        let with_vector = body.get("with_vector").and_then(Value::as_bool) == Some(true);
        let collection = collection(collections, &name)?;
        let query = vector_of(body.get("vector"), collection)?;
        let mut scored: Vec<(f64, &Point)> = collection
            .points
            .values()
            .filter(|point| filter.as_ref().is_none_or(|f| f.matches(point)))
            .map(|point| {
                let score: f32 = point.vector.iter().zip(&query).map(|(a, b)| a * b).sum();
                (f64::from(score), point)
            })
            .filter(|(score, _)| threshold.is_none_or(|t| *score >= t))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let hits: Vec<Value> = scored
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(score, point)| {
                let mut hit = record(point, &with_payload, with_vector);
                if let Value::Object(fields) = &mut hit {
                    fields.insert("version".into(), Value::from(point.version));
                    fields.insert("score".into(), Value::from(score));
                }
                hit
            })
            .collect();
        Ok(Value::Array(hits))
    })
    .await
}

async fn delete_points(
    State(state): State<Arc<MockState>>,
    Path(name): Path<String>,
    incoming: Incoming,
) -> Response {
    serve(&state, &incoming, |collections, body| {
        let body = body_object(body)?;
        let collection = collection(collections, &name)?;
        match (body.get("points"), body.get("filter")) {
            (Some(Value::Array(ids)), None) => {
                for id in ids {
                    let (key, _) = point_id(id)?;
                    collection.points.remove(&key);
                }
            }
            (None, Some(filter)) => {
                let filter = Filter::parse(filter)?;
                collection.points.retain(|_, point| !filter.matches(point));
            }
            _ => {
                return Err(Failure::format(
                    "data did not match any variant of untagged enum PointsSelector",
                ));
            }
        }
        Ok(update_result(collections))
    })
    .await
}

/// A search or delete filter.
#[derive(Debug)]
struct Filter {
    must: Vec<Condition>,
    should: Vec<Condition>,
    must_not: Vec<Condition>,
}

#[derive(Debug)]
enum Condition {
    /// `match.value`, `match.any`, `match.except` on a payload field.
    Match {
        key: String,
        accepted: Vec<Value>,
        except: bool,
    },
    Range {
        key: String,
        bounds: [Option<f64>; 4],
    },
    IsEmpty(String),
    IsNull(String),
    HasId(Vec<String>),
    Nested(Filter),
}

fn unknown_condition() -> Failure {
    Failure::format("data did not match any variant of untagged enum Condition")
}

impl Filter {
    fn parse(value: &Value) -> Result<Self, Failure> {
        let object = value.as_object().ok_or_else(unknown_condition)?;
        let list = |name: &str| -> Result<Vec<Condition>, Failure> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items.iter().map(Condition::parse).collect(),
                Some(single) => Ok(vec![Condition::parse(single)?]),
            }
        };
        Ok(Self {
            must: list("must")?,
            should: list("should")?,
            must_not: list("must_not")?,
        })
    }

    fn matches(&self, point: &Point) -> bool {
        self.must.iter().all(|c| c.matches(point))
            && !self.must_not.iter().any(|c| c.matches(point))
            && (self.should.is_empty() || self.should.iter().any(|c| c.matches(point)))
    }
}

impl Condition {
    fn parse(value: &Value) -> Result<Self, Failure> {
        let object = value.as_object().ok_or_else(unknown_condition)?;
        let key_of = |value: Option<&Value>| {
            value
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(unknown_condition)
        };
        if let Some(target) = object.get("is_empty") {
            return Ok(Self::IsEmpty(key_of(target.get("key"))?));
        }
        if let Some(target) = object.get("is_null") {
            return Ok(Self::IsNull(key_of(target.get("key"))?));
        }
        if let Some(ids) = object.get("has_id") {
            let ids = ids.as_array().ok_or_else(unknown_condition)?;
            let keys = ids
                .iter()
                .map(|id| point_id(id).map(|(key, _)| key))
                .collect::<Result<_, _>>()?;
            return Ok(Self::HasId(keys));
        }
        if ["must", "should", "must_not"]
            .iter()
            .any(|k| object.contains_key(*k))
        {
            return Ok(Self::Nested(Filter::parse(value)?));
        }
        let key = key_of(object.get("key"))?;
        if let Some(matched) = object.get("match") {
            let (accepted, except) = match (
                matched.get("value"),
                matched.get("any"),
                matched.get("except"),
            ) {
                (Some(value), None, None) if !value.is_array() && !value.is_object() => {
                    (vec![value.clone()], false)
                }
                (None, Some(Value::Array(any)), None) => (any.clone(), false),
                (None, None, Some(Value::Array(except))) => (except.clone(), true),
                _ => return Err(unknown_condition()),
            };
            return Ok(Self::Match {
                key,
                accepted,
                except,
            });
        }
        if let Some(range) = object.get("range").and_then(Value::as_object) {
            let bound = |name: &str| range.get(name).and_then(Value::as_f64);
            return Ok(Self::Range {
                key,
                bounds: [bound("lt"), bound("lte"), bound("gt"), bound("gte")],
            });
        }
        Err(unknown_condition())
    }

    fn matches(&self, point: &Point) -> bool {
        // A field holding an array matches when one of its values does.
        let values = |key: &str| -> Vec<&Value> {
            match field(&point.payload, key) {
                None => Vec::new(),
                Some(Value::Array(items)) => items.iter().collect(),
                Some(value) => vec![value],
            }
        };
        match self {
            Self::Match {
                key,
                accepted,
                except,
            } => {
                let values = values(key);
                if *except {
                    !values.is_empty() && values.iter().all(|v| !accepted.contains(v))
                } else {
                    values.iter().any(|v| accepted.contains(v))
                }
            }
            Self::Range { key, bounds } => values(key).iter().filter_map(|v| v.as_f64()).any(|x| {
                let [lt, lte, gt, gte] = *bounds;
                lt.is_none_or(|b| x < b)
                    && lte.is_none_or(|b| x <= b)
                    && gt.is_none_or(|b| x > b)
                    && gte.is_none_or(|b| x >= b)
            }),
            Self::IsEmpty(key) => match field(&point.payload, key) {
                None | Some(Value::Null) => true,
                Some(Value::Array(items)) => items.is_empty(),
                Some(_) => false,
            },
            Self::IsNull(key) => matches!(field(&point.payload, key), Some(Value::Null)),
            Self::HasId(keys) => point_id(&point.id).is_ok_and(|(key, _)| keys.contains(&key)),
            Self::Nested(filter) => filter.matches(point),
        }
    }
}

/// A payload field by its dotted path (`a.b`).
fn field<'a>(payload: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let mut value = payload.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(payload: Value) -> Point {
        let Value::Object(payload) = payload else {
            unreachable!()
        };
        Point {
            id: Value::from(1),
            vector: vec![1.0],
            payload,
            version: 1,
        }
    }

    fn filter(value: Value) -> Filter {
        Filter::parse(&value).unwrap_or_else(|_| unreachable!("a valid filter"))
    }

    #[test]
    fn filters_match_values_ranges_and_emptiness() {
        let p = point(json!({"scope": "s1", "exp": 10, "tags": ["a", "b"]}));
        assert!(filter(json!({"must": [{"key": "scope", "match": {"value": "s1"}}]})).matches(&p));
        assert!(!filter(json!({"must": [{"key": "scope", "match": {"value": "s2"}}]})).matches(&p));
        assert!(filter(json!({"must": {"key": "tags", "match": {"value": "b"}}})).matches(&p));
        assert!(filter(json!({"must_not": [{"key": "exp", "range": {"lte": 5}}]})).matches(&p));
        assert!(!filter(json!({"must_not": [{"key": "exp", "range": {"lte": 10}}]})).matches(&p));
        assert!(filter(json!({"must_not": [{"key": "none", "range": {"lte": 10}}]})).matches(&p));
        assert!(filter(json!({"must": [{"is_empty": {"key": "none"}}]})).matches(&p));
        assert!(
            filter(json!({"should": [{"key": "scope", "match": {"any": ["x", "s1"]}}]}))
                .matches(&p)
        );
        assert!(Filter::parse(&json!({"must": [{"key": "scope"}]})).is_err());
    }

    #[test]
    fn point_ids_are_unsigned_integers_or_uuids() {
        assert!(point_id(&json!(7)).is_ok());
        assert!(point_id(&json!(-1)).is_err());
        let (key, _) =
            point_id(&json!("550E8400E29B41D4A716446655440000")).unwrap_or_else(|_| unreachable!());
        assert_eq!(key, "550e8400-e29b-41d4-a716-446655440000");
        assert!(point_id(&json!("not-a-uuid")).is_err());
    }
}
