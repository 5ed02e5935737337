//! Command-line flags, spelled as LiteLLM's `litellm` command spells them, shared by the
//! `llmrelay-proxy` binary and the `llmrelay` Python command.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::ServeOptions;
use crate::config::{ProxyConfig, RawConfig};

/// Parsed flags.
#[derive(Debug, Clone, Default)]
pub struct CliOptions {
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
    pub version: bool,
    pub help: bool,
    /// Seconds in-flight requests may run after a shutdown signal.
    pub drain_timeout: Option<f64>,
}

/// The flags' help text.
pub const USAGE: &str = "\
usage: llmrelay [--config PATH] [--port 4000] [--host 0.0.0.0] [--model MODEL [--alias NAME]
                [--api_base URL] [--api_key KEY] [--api_version V] [--temperature T]
                [--max_tokens N] [--drop_params]] [--request_timeout S] [--num_workers N]
                [--debug] [--detailed_debug] [--validate_config] [--drain_timeout S] [--version]

  --config, -c PATH      LiteLLM proxy config.yaml (model_list, litellm_settings, general_settings, ...)
  --model, -m MODEL      serve one model without a config (e.g. gpt-4o-mini, anthropic/claude-...)
  --alias NAME           public name for --model
  --api_base/--api_key/--api_version/--temperature/--max_tokens/--drop_params
                         litellm_params of the --model deployment
  --port (env PORT, default 4000), --host (env HOST, default 0.0.0.0)
  --request_timeout S    upstream timeout when a request sets none
  --num_workers N        accepted for compatibility; one process serves all cores
  --debug / --detailed_debug   more logging (detailed: one line per request)
  --validate_config      load and check the config, then exit
  --drain_timeout S      after Ctrl-C/SIGTERM, how long in-flight requests may finish (default 30)
";

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
        let mut args = args.into_iter();
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
                "__version" | "_v" => options.version = true,
                "__help" | "_h" => options.help = true,
                _ => return Err(format!("unknown option '{arg}'\n\n{USAGE}")),
            }
        }
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
        Ok(ServeOptions { host, port, drain })
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
