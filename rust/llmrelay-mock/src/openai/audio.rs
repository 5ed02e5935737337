//! Audio: `/audio/transcriptions` (multipart upload) and `/audio/speech` (audio bytes), with
//! deterministic answers in OpenAI's shapes.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::error::missing;
use crate::faults::ErrorSpec;

/// One part of a `multipart/form-data` body.
struct Part<'a> {
    name: String,
    filename: Option<String>,
    data: &'a [u8],
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn disposition_value(header: &str, key: &str) -> Option<String> {
    let marker = format!("{key}=\"");
    let start = header.find(&marker)? + marker.len();
    let end = header[start..].find('"')? + start;
    Some(header[start..end].to_owned())
}

/// The parts of a multipart body (RFC 7578), or why it is not one.
fn parse_multipart<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<Vec<Part<'a>>, ErrorSpec> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .filter(|_| content_type.starts_with("multipart/form-data"))
        .ok_or_else(|| {
            ErrorSpec::invalid_request(
                "Invalid Content-Type header: expected multipart/form-data with a boundary.",
                None,
                None,
            )
        })?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let Some(header_end) = find(rest, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..header_end]).into_owned();
        let content = &rest[header_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes()).unwrap_or(content.len());
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default();
        parts.push(Part {
            name: disposition_value(disposition, "name").unwrap_or_default(),
            filename: disposition_value(disposition, "filename"),
            data: &content[..end],
        });
        rest = &content[end..];
    }
    Ok(parts)
}

/// Follows: API reference "Create transcription" and "The transcription object" (JSON and
/// verbose JSON), platform.openai.com/docs/api-reference/audio/createTranscription;
/// openai-python `types/audio/transcription.py`, `transcription_verbose.py`. The text names the
/// file; the duration is the upload's size read as 16 kHz 16-bit mono audio.
pub(super) fn render_transcription(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Vec<u8>, HeaderValue), ErrorSpec> {
    let parts = parse_multipart(headers, body)?;
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(p.data).into_owned())
    };
    let file = parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| missing("file"))?;
    let model = field("model").ok_or_else(|| missing("model"))?;
    let filename = file.filename.clone().unwrap_or_else(|| "audio".to_owned());
    let text = format!(
        "Mock transcription of {filename} ({} bytes).",
        file.data.len()
    );
    let seconds = (file.data.len() as f64 / 32_000.0 * 100.0).round() / 100.0;
    let format = field("response_format").unwrap_or_else(|| "json".to_owned());
    let json_type = HeaderValue::from_static("application/json");
    let plain = HeaderValue::from_static("text/plain; charset=utf-8");
    let answer = match format.as_str() {
        "text" => return Ok((text.into_bytes(), plain)),
        "srt" => {
            return Ok((
                format!(
                    "1\n00:00:00,000 --> 00:00:0{},000\n{text}\n",
                    seconds.ceil().min(9.0)
                )
                .into_bytes(),
                plain,
            ));
        }
        "vtt" => {
            return Ok((
                format!(
                    "WEBVTT\n\n00:00:00.000 --> 00:00:0{}.000\n{text}\n",
                    seconds.ceil().min(9.0)
                )
                .into_bytes(),
                plain,
            ));
        }
        "verbose_json" => json!({
            "task": "transcribe",
            "language": field("language").unwrap_or_else(|| "english".to_owned()),
            "duration": seconds,
            "text": text,
            "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": seconds, "text": text,
                          "tokens": [], "temperature": 0.0, "avg_logprob": -0.1,
                          "compression_ratio": 1.0, "no_speech_prob": 0.0}],
        }),
        "json" if model.starts_with("gpt-") => {
            let audio_tokens = (seconds * 10.0).ceil() as u64;
            let output_tokens = text.split_whitespace().count() as u64;
            json!({"text": text, "usage": {
                "type": "tokens", "input_tokens": audio_tokens,
                "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
                "output_tokens": output_tokens, "total_tokens": audio_tokens + output_tokens}})
        }
        "json" => {
            json!({"text": text, "usage": {"type": "duration", "seconds": seconds.ceil() as u64}})
        }
        other => {
            return Err(ErrorSpec::invalid_request(
                format!("Invalid value for 'response_format': '{other}'."),
                Some("response_format"),
                Some("invalid_value"),
            ));
        }
    };
    Ok((serde_json::to_vec(&answer).unwrap_or_default(), json_type))
}

/// The bytes of a silent WAV of `samples` 16-bit mono samples at 24 kHz.
fn silent_wav(samples: u32) -> Vec<u8> {
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16_u32.to_le_bytes());
    wav.extend_from_slice(&1_u16.to_le_bytes());
    wav.extend_from_slice(&1_u16.to_le_bytes());
    wav.extend_from_slice(&24_000_u32.to_le_bytes());
    wav.extend_from_slice(&48_000_u32.to_le_bytes());
    wav.extend_from_slice(&2_u16.to_le_bytes());
    wav.extend_from_slice(&16_u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(44 + data_len as usize, 0);
    wav
}

/// Follows: API reference "Create speech" (platform.openai.com/docs/api-reference/audio/createSpeech):
/// the audio file content in `response_format` (mp3 by default) with its content type. The
/// length grows with the input: a silent WAV (or raw PCM) of 10 ms per character; other formats
/// get a frame header and the same silence.
pub(super) fn render_speech(body: Option<&Value>) -> Result<(Vec<u8>, HeaderValue), ErrorSpec> {
    let request = super::request::request_object(body)?;
    let text = |name: &str| request.get(name).and_then(Value::as_str);
    let input = text("input").ok_or_else(|| missing("input"))?;
    text("voice").ok_or_else(|| missing("voice"))?;
    if input.chars().count() > 4096 {
        return Err(ErrorSpec::invalid_request(
            "'input' is too long: the maximum is 4096 characters.",
            Some("input"),
            Some("string_above_max_length"),
        ));
    }
    let samples = u32::try_from(input.chars().count()).unwrap_or(4096) * 240;
    let wav = silent_wav(samples.max(240));
    let (bytes, content_type) = match text("response_format").unwrap_or("mp3") {
        "wav" => (wav, "audio/wav"),
        "pcm" => (wav[44..].to_vec(), "audio/pcm"),
        "mp3" => ([&[0x49, 0x44, 0x33][..], &wav[44..]].concat(), "audio/mpeg"),
        "opus" => ([&b"OggS"[..], &wav[44..]].concat(), "audio/opus"),
        "aac" => ([&[0xFF, 0xF1][..], &wav[44..]].concat(), "audio/aac"),
        "flac" => ([&b"fLaC"[..], &wav[44..]].concat(), "audio/flac"),
        other => {
            return Err(ErrorSpec::invalid_request(
                format!("Invalid value for 'response_format': '{other}'."),
                Some("response_format"),
                Some("invalid_value"),
            ));
        }
    };
    Ok((bytes, HeaderValue::from_static(content_type)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(boundary: &str) -> Vec<u8> {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\nverbose_json\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\
             Content-Type: audio/wav\r\n\r\n0123456789\r\n--{boundary}--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn transcription_reads_the_upload() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        let (body, content_type) = render_transcription(&headers, &form("XyZ")).unwrap();
        assert_eq!(content_type, "application/json");
        let answer: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(answer["text"], "Mock transcription of a.wav (10 bytes).");
        assert_eq!(answer["task"], "transcribe");
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(render_transcription(&headers, b"{}").is_err());
    }

    #[test]
    fn speech_answers_audio_of_the_requested_format() {
        let (wav, content_type) = render_speech(Some(
            &json!({"input": "hi", "voice": "alloy", "response_format": "wav"}),
        ))
        .unwrap();
        assert_eq!(content_type, "audio/wav");
        assert_eq!(&wav[..4], b"RIFF");
        let (mp3, content_type) =
            render_speech(Some(&json!({"input": "hi", "voice": "alloy"}))).unwrap();
        assert_eq!(content_type, "audio/mpeg");
        assert_eq!(&mp3[..3], b"ID3");
        assert!(render_speech(Some(&json!({"input": "hi"}))).is_err());
    }
}
