//! Spend in FOCUS: `/global/spend/report?format=focus` (JSON) and `format=focus_csv` from the
//! daily totals, and the scheduled export's window written to a directory and to an S3 bucket
//! (moto's server mode).

use std::time::{Duration, Instant};

use chrono::Utc;
use llmrelay_cache::backend::s3::{S3Settings, S3Store};
use llmrelay_governance::focus::COLUMNS;
use llmrelay_mock::local_moto::Moto;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_providers::bedrock::auth::{AwsCredentials, SigningScope, signature_headers};
use llmrelay_proxy::focus_export::{Destination, FocusExport, Format, Frequency};
use serde_json::{Value, json};

use crate::support::{serve_governed, temp_directory};

const MASTER: &str = "sk-focus-master-0123456789";

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    key: String,
    body: Option<Value>,
) -> (u16, String, String) {
    let mut request = http.request(method, url).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spend_is_reported_and_exported_in_focus() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let directory = temp_directory("focus");
    let yaml = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {}/v1
      api_key: sk-test
general_settings:
  master_key: {MASTER}
  database_url: sqlite://{}
",
        mock.base_url(),
        directory.join("llmrelay.db").display()
    );
    let (served, proxy) = serve_governed(&directory, &yaml).await;
    let governed = proxy.state().governance.clone().expect("governance is on");
    let http = llmrelay_providers::http::client().clone();
    let base = served.base.clone();
    let post = |path: &str, key: &str, body: Value| {
        call(
            &http,
            reqwest::Method::POST,
            format!("{base}{path}"),
            key.to_owned(),
            Some(body),
        )
    };

    let (status, _, team) = post("/team/new", MASTER, json!({"team_alias": "Team A"})).await;
    assert_eq!(status, 200, "{team}");
    let team_id = serde_json::from_str::<Value>(&team).unwrap()["team_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, created) = post(
        "/key/generate",
        MASTER,
        json!({"team_id": team_id, "key_alias": "app, eu"}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let created: Value = serde_json::from_str(&created).unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    let started = Utc::now() - chrono::TimeDelta::minutes(1);
    for _ in 0..3 {
        let (status, _, body) = post(
            "/v1/chat/completions",
            &key,
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    // The daily totals are written in the background: wait for the three requests.
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let report =
        format!("{base}/global/spend/report?format=focus&start_date={today}&end_date={today}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let record = loop {
        let (status, content_type, body) = call(
            &http,
            reqwest::Method::GET,
            report.clone(),
            MASTER.to_owned(),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["focus_version"], "1.0");
        let found = body["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["BillingAccountId"] == token.as_str() && r["ConsumedQuantity"] == 3)
            .cloned();
        if let Some(record) = found {
            break record;
        }
        assert!(
            Instant::now() < deadline,
            "no FOCUS record for the key: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(record.as_object().unwrap().len(), COLUMNS.len());
    assert_eq!(record["BillingAccountName"], "app, eu");
    assert_eq!(record["SubAccountId"], team_id.as_str());
    assert_eq!(record["SubAccountName"], "Team A");
    assert_eq!(record["ServiceName"], "gpt-4o");
    assert_eq!(record["ProviderName"], "openai");
    assert_eq!(record["ChargePeriodStart"], format!("{today}T00:00:00Z"));
    assert_eq!(record["ChargeCategory"], "Usage");
    assert!(record["BilledCost"].as_f64().unwrap() > 0.0, "{record}");
    assert!(record["x_TotalTokens"].as_i64().unwrap() > 0, "{record}");

    let (status, content_type, csv) = call(
        &http,
        reqwest::Method::GET,
        report.replace("format=focus", "format=focus_csv"),
        MASTER.to_owned(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
    assert!(
        csv.lines()
            .any(|l| l.contains(&token) && l.contains("\"app, eu\"")),
        "{csv}"
    );
    let (status, _, body) = call(
        &http,
        reqwest::Method::GET,
        report.replace("format=focus", "format=focus_parquet"),
        MASTER.to_owned(),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // The scheduled export's window, from the spend rows: to a directory.
    let end = Utc::now() + chrono::TimeDelta::minutes(1);
    let to_directory = FocusExport {
        destination: Destination::Directory(directory.join("exports")),
        format: Format::Csv,
        frequency: Frequency::Interval(Duration::from_secs(60)),
        offset_minutes: 0,
        prefix: "focus_exports".into(),
    };
    let written = to_directory
        .export(&governed.engine, started, end)
        .await
        .unwrap();
    assert!(written.starts_with(&format!(
        "focus_exports/date={}",
        started.format("%Y-%m-%d")
    )));
    let file = std::fs::read_to_string(directory.join("exports").join(&written)).unwrap();
    let row = file
        .lines()
        .find(|l| l.contains(&token))
        .expect("the key's row");
    let columns: Vec<&str> = COLUMNS.to_vec();
    let consumed = columns
        .iter()
        .position(|c| *c == "ConsumedQuantity")
        .unwrap();
    // The alias holds a comma (quoted): count fields after it.
    let unquoted = row.replace("\"app, eu\"", "app_eu");
    assert_eq!(unquoted.split(',').nth(consumed), Some("3"), "{row}");

    // …and to an S3 bucket.
    if let Some(moto) = Moto::start() {
        let created = llmrelay_providers::http::client()
            .clone()
            .put(format!("{}/focus-bucket", moto.url))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{created:?}");
        let to_s3 = FocusExport {
            destination: Destination::S3(S3Store::new(&S3Settings {
                bucket: "focus-bucket".into(),
                region: Some("us-east-1".into()),
                endpoint_url: Some(moto.url.clone()),
                use_ssl: false,
                access_key_id: Some("AKIDFOCUS".into()),
                secret_access_key: Some("focus-secret".into()),
                session_token: None,
                path: None,
            })),
            format: Format::Json,
            ..to_directory
        };
        let key = to_s3.export(&governed.engine, started, end).await.unwrap();
        assert!(key.ends_with(".json"), "{key}");
        // Read back signed, as the bucket's owner (moto refuses anonymous reads).
        let url = format!("{}/focus-bucket/{}", moto.url, key.replace('=', "%3D"));
        let signed = signature_headers(
            "GET",
            &url,
            &[],
            b"",
            &AwsCredentials {
                access_key_id: "AKIDFOCUS".into(),
                secret_access_key: "focus-secret".into(),
                session_token: None,
            },
            SigningScope {
                region: "us-east-1",
                service: "s3",
                time: std::time::SystemTime::now(),
            },
        )
        .unwrap();
        let mut request = llmrelay_providers::http::client().get(&url);
        for (name, value) in &signed {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        let object: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        assert!(
            object["records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["BillingAccountId"] == token.as_str() && r["ConsumedQuantity"] == 3),
            "{object}"
        );
    }
    drop(served);
    let _ = std::fs::remove_dir_all(&directory);
}
