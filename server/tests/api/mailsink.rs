//! A real SMTP server for the tests: `scripts/mailsink.py` (Debian's
//! python3-aiosmtpd) on a loopback port, started and stopped here. Each
//! mail it accepts is a JSON file the test reads.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The Python that has aiosmtpd (Debian's, whatever else is on PATH).
const PYTHON: &str = "/usr/bin/python3";

pub struct MailSink {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// A mail as the SMTP server received it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Received {
    pub rcpt_tos: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Received {
    /// The first link in the text body starting with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        self.text.split_whitespace().find(|w| w.starts_with(prefix)).map(str::to_owned)
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/mailsink.py")
}

impl MailSink {
    pub fn start() -> MailSink {
        let dir = tempfile::tempdir().expect("mail dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("port").port();
        let mut sink = MailSink { child: None, port, dir };
        sink.up();
        sink
    }

    /// The settings that send the portal's mail here.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PEERPORTAL_SMTP_URL", format!("smtp://127.0.0.1:{}?tls=none", self.port)),
            ("PEERPORTAL_MAIL_FROM", "Example IX portal <portal@ix.example>".to_string()),
        ]
    }

    /// Starts the server (again) on its port, and waits until it listens.
    pub fn up(&mut self) {
        assert!(self.child.is_none(), "the mail server runs already");
        let mut child = Command::new(PYTHON)
            .arg(script())
            .args(["--dir", &self.dir.path().display().to_string(), "--port", &self.port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scripts/mailsink.py with /usr/bin/python3 (Debian package python3-aiosmtpd)");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("stdout")), &mut line).expect("mailsink output");
        assert!(line.starts_with("listening on"), "mailsink said {line:?}");
        self.child = Some(child);
    }

    /// Stops the server: connections to its port are refused.
    pub fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM: the sink stops cleanly.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }

    /// Every mail received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("mail dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files.iter().map(|p| serde_json::from_slice(&std::fs::read(p).expect("mail file")).expect("mail JSON")).collect()
    }

    /// Waits (boundedly) until `n` mails have arrived, and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1000 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("expected {n} mails within 20 s, got {:?}", self.received().iter().map(|m| &m.subject).collect::<Vec<_>>());
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.down();
    }
}
