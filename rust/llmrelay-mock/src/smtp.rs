//! A recording SMTP receiver for tests of mail sending: plain SMTP (no TLS, no auth) on a local
//! port, answering the commands a client sends for one message (`EHLO`/`HELO`, `MAIL FROM`,
//! `RCPT TO`, `DATA` … `.`, `RSET`, `NOOP`, `QUIT`) as RFC 5321 says, and keeping each message
//! it accepted.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mail {
    /// The `MAIL FROM` address.
    pub from: String,
    /// The `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message as sent after `DATA` (headers and body, dot-stuffing removed).
    pub data: String,
}

/// The receiver; it stops when dropped.
pub struct SmtpRecorder {
    address: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpRecorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn address_of(argument: &str) -> String {
    let argument = argument.trim();
    let inner = argument
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(argument, |(address, _)| address);
    inner.trim().to_owned()
}

async fn session(stream: TcpStream, mails: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer
        .write_all(b"220 llmrelay-mock ESMTP ready\r\n")
        .await?;
    let mut mail = Mail::default();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            writer
                .write_all(b"250-llmrelay-mock\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            writer.write_all(b"250 llmrelay-mock\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            mail = Mail {
                from: address_of(&command[10..]),
                ..Mail::default()
            };
            writer.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(address_of(&command[8..]));
            writer.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            if mail.to.is_empty() {
                writer.write_all(b"503 need RCPT first\r\n").await?;
                continue;
            }
            writer
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mail.data = data;
            mails
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(std::mem::take(&mut mail));
            writer.write_all(b"250 OK: queued\r\n").await?;
        } else if upper == "RSET" {
            mail = Mail::default();
            writer.write_all(b"250 OK\r\n").await?;
        } else if upper == "NOOP" {
            writer.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            writer.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            writer.write_all(b"502 Command not implemented\r\n").await?;
        }
    }
}

impl SmtpRecorder {
    /// Listen on a free local port.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let mails = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&mails);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let mails = Arc::clone(&recorded);
                tokio::spawn(async move {
                    let _ = session(stream, mails).await;
                });
            }
        });
        Ok(Self {
            address,
            mails,
            task,
        })
    }

    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The messages accepted so far, oldest first.
    #[must_use]
    pub fn mails(&self) -> Vec<Mail> {
        self.mails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn expect(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) {
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).await.unwrap();
            assert!(line.starts_with(code), "{line}");
            if line.as_bytes().get(3) != Some(&b'-') {
                return;
            }
        }
    }

    #[tokio::test]
    async fn records_one_message_per_data() {
        let recorder = SmtpRecorder::start().await.unwrap();
        let stream = TcpStream::connect(recorder.address()).await.unwrap();
        let (reader, mut writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        expect(&mut reader, "220").await;
        for (command, code) in [
            ("EHLO me\r\n", "250"),
            ("MAIL FROM:<a@b.c>\r\n", "250"),
            ("RCPT TO:<d@e.f>\r\n", "250"),
            ("DATA\r\n", "354"),
            ("Subject: hi\r\n\r\n..dot\r\n.\r\n", "250"),
            ("QUIT\r\n", "221"),
        ] {
            writer.write_all(command.as_bytes()).await.unwrap();
            expect(&mut reader, code).await;
        }
        let mails = recorder.mails();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].from, "a@b.c");
        assert_eq!(mails[0].to, ["d@e.f"]);
        assert_eq!(mails[0].data, "Subject: hi\r\n\r\n.dot\r\n");
    }
}
