//! Command-line flags, spelled as LiteLLM's `litellm` command spells them, shared by the
//! `llmrelay-proxy` binary and the `llmrelay` Python command.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::ServeOptions;
use crate::config::{ProxyConfig, RawConfig};
use crate::tls::TlsFiles;

/// A command other than serving (`llmrelay migrate`, `llmrelay import-litellm --from URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Apply the database migrations, then exit.
    Migrate,
    /// Copy a LiteLLM database (`--from postgresql://…`) into llmrelay's, then exit.
    ImportLitellm { from: String },
}

/// Parsed flags.
#[derive(Debug, Clone, Default)]
pub struct CliOptions {
    /// `migrate` or `import-litellm` (first argument); `None`: serve.
    pub command: Option<Command>,
    pub config: Option<PathBuf>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub model: Option<String>,
    pub alias: Option<String>,
    pub api_base: Option<String>,
    pub api_key: Option<String>,
    pub api_version: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
    pub request_timeout: Option<f64>,
    pub drop_params: bool,
    /// Accepted for compatibility: one process with a multi-threaded runtime uses every core.
    pub num_workers: Option<u32>,
    pub debug: bool,
    pub detailed_debug: bool,
    pub validate_config: bool,
    /// `--health`: print the running proxy's `/health` report, then exit.
    pub health: bool,
    /// `--test`: send test requests to the running proxy, then exit.
    pub test: bool,
    pub ssl_certfile_path: Option<PathBuf>,
    pub ssl_keyfile_path: Option<PathBuf>,
    pub version: bool,
    pub help: bool,
    /// Seconds in-flight requests may run after a shutdown signal.
    pub drain_timeout: Option<f64>,
}

/// The flags' help text.
pub const USAGE: &str = "\
usage: llmrelay [--config PATH] [--port 4000] [--host 0.0.0.0] [OPTIONS]
       llmrelay --model MODEL [--alias NAME] [--api_base URL] [--api_key KEY] [OPTIONS]
       llmrelay migrate [--config PATH]
       llmrelay import-litellm --from postgresql://... [--config PATH]

An OpenAI- and Anthropic-compatible LLM gateway configured with LiteLLM's config.yaml.
Flags are spelled as LiteLLM's `litellm` command spells them.

commands (the database is DATABASE_URL, else general_settings.database_url, else
llmrelay.db next to --config):
  migrate                  apply the database migrations and exit
  import-litellm --from URL
                           copy a LiteLLM proxy's PostgreSQL database (keys, users, teams,
                           organizations, end users, budgets, models, credentials, spend)
                           into llmrelay's, print what was copied and exit

options:
  -c, --config PATH        LiteLLM proxy config.yaml (model_list, litellm_settings,
                           general_settings, router_settings, environment_variables)
  --host HOST              address to listen on (env HOST; default 0.0.0.0)
  --port PORT              port to listen on (env PORT; default 4000)
  -m, --model MODEL        serve one model without a config (e.g. gpt-4o-mini,
                           anthropic/claude-sonnet-4-20250514)
  --alias NAME             public model name for --model
  --api_base URL           api_base of the --model deployment
  --api_key KEY            api_key of the --model deployment
  --api_version VERSION    api_version of the --model deployment (Azure)
  --temperature T          default temperature of the --model deployment
  --max_tokens N           default max_tokens of the --model deployment
  --drop_params            drop parameters a provider does not support (litellm_settings.drop_params)
  --request_timeout S      upstream timeout in seconds when a request sets none
  --num_workers N          accepted for compatibility; one llmrelay process serves every core
  --debug                  INFO logs from llmrelay: start-up details, routing and retries
                           (env DEBUG=true); the default shows warnings and errors only
  --detailed_debug         DEBUG logs from llmrelay: one line per request with status and
                           time, and every routing decision (env DETAILED_DEBUG=true)
  --ssl_certfile_path PATH serve HTTPS with this PEM certificate chain (with --ssl_keyfile_path)
  --ssl_keyfile_path PATH  the PEM private key of --ssl_certfile_path
  --validate_config        run every start-up check on --config, print 'config OK' and exit
                           (exit code 1 and the error when the proxy could not start)
  --health                 print the /health report of the proxy running at --host/--port
  --test                   send a chat completion (whole and streamed) and a text completion
                           to the proxy running at --host/--port (model: --model, else
                           gpt-3.5-turbo) and print the responses
  --drain_timeout S        after Ctrl-C/SIGTERM, how long in-flight requests may finish (default 30)
  -v, --version            print the version
  -h, --help               show this help
";

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: expected a number, got '{value}'"))
}

impl CliOptions {
    /// Parse flags (`--flag value`, `--flag=value`; `-c`, `-m` short forms).
    ///
    /// # Errors
    /// An unknown flag, a missing or malformed value.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Self, String> {
        let mut options = Self::default();
        let mut args = args.into_iter().peekable();
        let mut import_from: Option<String> = None;
        match args.peek().map(String::as_str) {
            Some("migrate") => {
                args.next();
                options.command = Some(Command::Migrate);
            }
            Some("import-litellm" | "import_litellm") => {
                args.next();
                options.command = Some(Command::ImportLitellm {
                    from: String::new(),
                });
            }
            _ => {}
        }
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let flag = flag.replace('-', "_");
            let mut value = || -> Result<String, String> {
                match &inline {
                    Some(value) => Ok(value.clone()),
                    None => args
                        .next()
                        .ok_or_else(|| format!("{arg}: expected a value")),
                }
            };
            match flag.as_str() {
                "__config" | "_c" => options.config = Some(PathBuf::from(value()?)),
                "__host" => options.host = Some(value()?),
                "__port" => options.port = Some(number("--port", &value()?)?),
                "__model" | "_m" => options.model = Some(value()?),
                "__alias" => options.alias = Some(value()?),
                "__api_base" => options.api_base = Some(value()?),
                "__api_key" => options.api_key = Some(value()?),
                "__api_version" => options.api_version = Some(value()?),
                "__temperature" => options.temperature = Some(number("--temperature", &value()?)?),
                "__max_tokens" => options.max_tokens = Some(number("--max_tokens", &value()?)?),
                "__request_timeout" => {
                    options.request_timeout = Some(number("--request_timeout", &value()?)?)
                }
                "__num_workers" => options.num_workers = Some(number("--num_workers", &value()?)?),
                "__drain_timeout" => {
                    options.drain_timeout = Some(number("--drain_timeout", &value()?)?)
                }
                "__drop_params" => options.drop_params = true,
                "__debug" => options.debug = true,
                "__detailed_debug" => options.detailed_debug = true,
                "__validate_config" => options.validate_config = true,
                "__health" => options.health = true,
                "__test" => options.test = true,
                "__ssl_certfile_path" => options.ssl_certfile_path = Some(PathBuf::from(value()?)),
                "__ssl_keyfile_path" => options.ssl_keyfile_path = Some(PathBuf::from(value()?)),
                "__from" if matches!(options.command, Some(Command::ImportLitellm { .. })) => {
                    import_from = Some(value()?)
                }
                "__version" | "_v" => options.version = true,
                "__help" | "_h" => options.help = true,
                _ => return Err(format!("unknown option '{arg}'\n\n{USAGE}")),
            }
        }
        if let Some(Command::ImportLitellm { from }) = &mut options.command {
            *from = import_from.filter(|url| !url.is_empty()).ok_or_else(|| {
                format!("import-litellm: --from postgresql://... is required\n\n{USAGE}")
            })?;
        }
        // LiteLLM reads these two flags from the environment too (click `envvar`).
        options.debug |= env_flag("DEBUG");
        options.detailed_debug |= env_flag("DETAILED_DEBUG");
        Ok(options)
    }

    /// Where to listen: flags, else `HOST` / `PORT`, else `0.0.0.0:4000`.
    ///
    /// # Errors
    /// A `PORT` that is not a port number.
    pub fn serve_options(&self) -> Result<ServeOptions, String> {
        let defaults = ServeOptions::default();
        let port = match self.port {
            Some(port) => port,
            None => match std::env::var("PORT") {
                Ok(port) if !port.is_empty() => number("PORT", &port)?,
                _ => defaults.port,
            },
        };
        let host = self
            .host
            .clone()
            .or_else(|| std::env::var("HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or(defaults.host);
        let drain = self
            .drain_timeout
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map_or(defaults.drain, std::time::Duration::from_secs_f64);
        let tls = match (&self.ssl_certfile_path, &self.ssl_keyfile_path) {
            (Some(certificate), Some(key)) => Some(TlsFiles {
                certificate: certificate.clone(),
                key: key.clone(),
            }),
            (None, None) => None,
            _ => {
                return Err(
                    "Both --ssl_certfile_path and --ssl_keyfile_path are required for SSL."
                        .to_owned(),
                );
            }
        };
        Ok(ServeOptions {
            host,
            port,
            drain,
            tls,
        })
    }

    /// The config file read from disk (not resolved), if `--config` was given.
    ///
    /// # Errors
    /// Unreadable or invalid YAML.
    pub fn raw_config(&self) -> Result<Option<RawConfig>, String> {
        self.config
            .as_deref()
            .map(RawConfig::load)
            .transpose()
            .map_err(|e| e.to_string())
    }

    /// The resolved config: the file (environment already exported), or the one-model config of
    /// `--model`; flags such as `--request_timeout` and `--drop_params` override its settings.
    ///
    /// # Errors
    /// Neither `--config` nor `--model`, or an invalid config.
    pub fn proxy_config(&self, raw: Option<&RawConfig>) -> Result<ProxyConfig, String> {
        let mut config = match (raw, &self.model) {
            (Some(raw), _) => raw.resolve().map_err(|e| e.to_string())?,
            (None, Some(model)) => {
                let mut params = Map::new();
                let mut put = |key: &str, value: Option<Value>| {
                    if let Some(value) = value {
                        params.insert(key.to_owned(), value);
                    }
                };
                put("api_base", self.api_base.clone().map(Value::String));
                put("api_key", self.api_key.clone().map(Value::String));
                put("api_version", self.api_version.clone().map(Value::String));
                put("temperature", self.temperature.map(|t| json!(t)));
                put("max_tokens", self.max_tokens.map(|t| json!(t)));
                ProxyConfig::single_model(model, self.alias.as_deref(), params)
            }
            (None, None) => {
                return Err(format!("pass --config PATH or --model MODEL\n\n{USAGE}"));
            }
        };
        if let Some(timeout) = self.request_timeout {
            config.litellm_settings.request_timeout = Some(timeout);
        }
        if self.drop_params {
            config.litellm_settings.drop_params = Some(true);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CliOptions, String> {
        CliOptions::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn litellm_flags() {
        let options = parse(&[
            "--config",
            "c.yaml",
            "--port=4100",
            "--num_workers",
            "4",
            "--detailed_debug",
            "-m",
            "gpt-4o",
        ])
        .unwrap();
        assert_eq!(
            options.config.as_deref(),
            Some(std::path::Path::new("c.yaml"))
        );
        assert_eq!(options.port, Some(4100));
        assert_eq!(options.num_workers, Some(4));
        assert!(options.detailed_debug);
        assert_eq!(options.model.as_deref(), Some("gpt-4o"));
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--config"]).is_err());
        let options = parse(&[
            "--health",
            "--test",
            "--ssl_certfile_path",
            "c.pem",
            "--ssl_keyfile_path=k.pem",
        ])
        .unwrap();
        assert!(options.health && options.test);
        let tls = options.serve_options().unwrap().tls.unwrap();
        assert_eq!(tls.key, std::path::PathBuf::from("k.pem"));
        let half = parse(&["--ssl_certfile_path", "c.pem"]).unwrap();
        assert_eq!(
            half.serve_options().unwrap_err(),
            "Both --ssl_certfile_path and --ssl_keyfile_path are required for SSL."
        );
    }

    #[test]
    fn every_flag_has_help() {
        for flag in [
            "--config",
            "--host",
            "--port",
            "--model",
            "--alias",
            "--api_base",
            "--api_key",
            "--api_version",
            "--temperature",
            "--max_tokens",
            "--drop_params",
            "--request_timeout",
            "--num_workers",
            "--debug",
            "--detailed_debug",
            "--ssl_certfile_path",
            "--ssl_keyfile_path",
            "--validate_config",
            "--health",
            "--test",
            "--drain_timeout",
            "--version",
            "--help",
        ] {
            assert!(
                USAGE.lines().any(|line| line.trim_start().starts_with(flag)
                    || line
                        .trim_start()
                        .starts_with(&format!("-{}, {flag}", &flag[2..3]))),
                "{flag} has no help line"
            );
            // The parser knows every flag the help names.
            let takes_value = !matches!(
                flag,
                "--drop_params"
                    | "--debug"
                    | "--detailed_debug"
                    | "--validate_config"
                    | "--health"
                    | "--test"
                    | "--version"
                    | "--help"
            );
            let args: Vec<&str> = if takes_value {
                vec![flag, "1"]
            } else {
                vec![flag]
            };
            assert!(parse(&args).is_ok(), "{flag} is not parsed");
        }
    }

    #[test]
    fn database_commands() {
        let migrate = parse(&["migrate", "--config", "c.yaml"]).unwrap();
        assert_eq!(migrate.command, Some(Command::Migrate));
        assert!(migrate.config.is_some());
        let import = parse(&["import-litellm", "--from", "postgresql://u@h/litellm"]).unwrap();
        assert_eq!(
            import.command,
            Some(Command::ImportLitellm {
                from: "postgresql://u@h/litellm".to_owned()
            })
        );
        assert!(
            parse(&["import-litellm"])
                .unwrap_err()
                .contains("--from postgresql://... is required")
        );
        // `--from` belongs to import-litellm only.
        assert!(parse(&["--from", "x"]).is_err());
        assert!(parse(&["migrate", "--from", "x"]).is_err());
        assert_eq!(parse(&["--port", "1"]).unwrap().command, None);
    }

    #[test]
    fn one_model_mode() {
        let options = parse(&[
            "--model",
            "openai/gpt-4o-mini",
            "--alias",
            "mini",
            "--api_base",
            "http://x/v1",
            "--request_timeout",
            "5",
        ])
        .unwrap();
        let config = options.proxy_config(None).unwrap();
        assert_eq!(config.model_list[0].model_name, "mini");
        assert_eq!(
            config.model_list[0].litellm_params.other["api_base"],
            "http://x/v1"
        );
        assert_eq!(config.litellm_settings.request_timeout, Some(5.0));
        assert!(parse(&[]).unwrap().proxy_config(None).is_err());
    }
}
