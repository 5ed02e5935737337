//! `llmrelay-mock` command: runs the mock upstream LLM provider server until Ctrl-C.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use llmrelay_mock::{MockConfig, MockServer};

const USAGE: &str = "\
llmrelay-mock: mock upstream LLM provider for tests and load tests

Usage: llmrelay-mock [OPTIONS]

Wire formats:
  OpenAI                    /v1/chat/completions, /v1/completions, /v1/embeddings,
                            /v1/responses, /v1/images/generations, /v1/moderations, /v1/models
  Azure OpenAI              /openai/deployments/{deployment}/chat/completions, .../completions,
                            .../embeddings, .../images/generations
  Anthropic Messages        /v1/messages, /v1/messages/count_tokens
  AWS Bedrock Runtime       /model/{id}/converse, /model/{id}/converse-stream,
                            /model/{id}/invoke (SigV4 checked)
  Gemini API                /v1beta/models/{model}:generateContent, :streamGenerateContent,
                            :embedContent
  Vertex AI                 /v1/projects/{project}/locations/{location}/publishers/{publisher}/models/...
  Cohere v2                 /v2/chat, /v2/embed, /v2/rerank
  Hugging Face              /hf-inference/models/{model}/...
  Ollama                    /api/chat, /api/generate, /api/embed
  Qdrant                    /collections/{name}[/exists|/index|/points[/search|/delete]]

Options:
  --host HOST               address to bind [default: 127.0.0.1]
  --port PORT               port to bind, 0 for any free port [default: 8000]
  --latency-ms N            delay before whole responses [default: 0]
  --ttft-ms N               delay before the first stream chunk [default: 0]
  --chunk-count N           content chunks per streamed answer [default: 8]
  --chunk-interval-ms N     delay between stream chunks [default: 0]
  --content TEXT            answer text [default: a fixed sentence]
  --prompt-tokens N         reported prompt tokens [default: estimated]
  --completion-tokens N     reported completion tokens [default: estimated]
  --embedding-dim N         embedding length without `dimensions` [default: 8]
  --no-record               do not record requests (for load tests)
  --qdrant-api-key KEY      the key the Qdrant routes require (none by default)
  --threads N               tokio worker threads [default: available cores]
  -h, --help                print this help
  -V, --version             print the version

Per-request behaviour is set with x-mock-* headers; see the crate README.";

#[derive(Debug, PartialEq)]
struct Options {
    host: String,
    port: u16,
    threads: Option<usize>,
    config: MockConfig,
}

#[derive(Debug, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once at startup; the config holds the mock's Bedrock credentials"
)]
enum Command {
    Serve(Options),
    Help,
    Version,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options {
        host: "127.0.0.1".to_owned(),
        port: 8000,
        threads: None,
        config: MockConfig::default(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--name value` and `--name=value`.
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline_value
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("option `{name}` needs a value"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--host" => options.host = value(&name)?,
            "--port" => options.port = number(&name, &value(&name)?)?,
            "--latency-ms" => options.config.latency_ms = number(&name, &value(&name)?)?,
            "--ttft-ms" => options.config.ttft_ms = number(&name, &value(&name)?)?,
            "--chunk-count" => options.config.chunk_count = number(&name, &value(&name)?)?,
            "--chunk-interval-ms" => {
                options.config.chunk_interval_ms = number(&name, &value(&name)?)?
            }
            "--content" => options.config.content = Some(value(&name)?),
            "--prompt-tokens" => {
                options.config.prompt_tokens = Some(number(&name, &value(&name)?)?)
            }
            "--completion-tokens" => {
                options.config.completion_tokens = Some(number(&name, &value(&name)?)?)
            }
            "--embedding-dim" => options.config.embedding_dim = number(&name, &value(&name)?)?,
            "--threads" => options.threads = Some(number(&name, &value(&name)?)?),
            "--no-record" => options.config.record = false,
            "--qdrant-api-key" => options.config.qdrant_api_key = Some(value(&name)?),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(Command::Serve(options))
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("option `{name}` needs a non-negative integer, got `{value}`"))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            print_line(USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            print_line(concat!("llmrelay-mock ", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("error: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .max(1);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options) -> Result<(), String> {
    let addr: SocketAddr = (options.host.as_str(), options.port)
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve `{}`: {error}", options.host))?
        .next()
        .ok_or_else(|| format!("`{}` resolves to no address", options.host))?;
    let server = MockServer::start(addr, options.config)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    let host = if options.host.contains(':') {
        format!("[{}]", options.host)
    } else {
        options.host
    };
    print_line(&format!(
        "llmrelay-mock listening on http://{host}:{}",
        server.local_addr().port()
    ));
    shutdown_signal().await;
    server.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix (containers and CI stop processes with it).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[expect(
    clippy::print_stdout,
    reason = "the listening address and help go to stdout for scripts to read"
)]
fn print_line(line: &str) {
    use std::io::Write as _;
    println!("{line}");
    // Scripts wait for the address line; stdout may be a pipe that buffers it.
    let _ = std::io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn parses_options() {
        let Command::Serve(options) = parse(&[
            "--host",
            "0.0.0.0",
            "--port=9000",
            "--latency-ms",
            "5",
            "--chunk-count",
            "3",
            "--content",
            "hi there",
            "--no-record",
            "--threads",
            "1",
        ])
        .unwrap() else {
            unreachable!("expected serve");
        };
        assert_eq!(options.host, "0.0.0.0");
        assert_eq!(options.port, 9000);
        assert_eq!(options.threads, Some(1));
        assert_eq!(options.config.latency_ms, 5);
        assert_eq!(options.config.chunk_count, 3);
        assert_eq!(options.config.content.as_deref(), Some("hi there"));
        assert!(!options.config.record);
    }

    #[test]
    fn rejects_bad_options() {
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--port"]).is_err());
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn help_lists_every_wire_format_and_describes_every_option() {
        for dialect in [
            "OpenAI",
            "Azure OpenAI",
            "Anthropic Messages",
            "AWS Bedrock Runtime",
            "Gemini API",
            "Vertex AI",
            "Cohere v2",
            "Hugging Face",
            "Ollama",
        ] {
            assert!(USAGE.contains(dialect), "{dialect}");
        }
        for line in USAGE
            .lines()
            .filter(|line| line.trim_start().starts_with("--"))
        {
            let described = line
                .trim_start()
                .split("  ")
                .filter(|part| !part.trim().is_empty());
            assert!(described.count() >= 2, "no help for {line}");
        }
    }
}
