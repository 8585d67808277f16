//! Outgoing mail. Use cases write mails into the outbox in their own
//! transaction ([`crate::store::outbox::enqueue`]); the worker here hands
//! them to the SMTP server, one replica at a time (a lease), and retries
//! with backoff (`domain::mail::retry_delay`) until the server takes them.
//! SMTP being down loses nothing; a crash between the server's "250 OK"
//! and the row's update sends that one mail again.

pub mod message;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{MailConfig, SmtpTls};
use crate::store::{leases, now, outbox, Db, DbError};

/// The lease whose holder sends the outbox.
const LEASE: &str = "mail";
const LEASE_TTL: time::Duration = time::Duration::minutes(2);
/// How often a replica looks for due mail: a cheap indexed read.
const POLL: Duration = Duration::from_secs(1);
/// Mails per round between lease renewals.
const BATCH: i64 = 20;
/// Sent mails are listed in the console this long, then forgotten.
const KEEP_SENT: time::Duration = time::Duration::days(90);

/// The SMTP client.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why a mail did not go out.
#[derive(Debug)]
pub struct SendError {
    /// The server refused it for good (5xx): retried daily, not soon.
    pub permanent: bool,
    pub message: String,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Mailer, String> {
        let tls = |host: &str| TlsParameters::new(host.to_string()).map_err(|e| format!("TLS for {host}: {e}"));
        let tls = match config.tls {
            SmtpTls::Implicit => Tls::Wrapper(tls(&config.host)?),
            SmtpTls::StartTls => Tls::Required(tls(&config.host)?),
            SmtpTls::None => Tls::None,
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host).port(config.port).tls(tls).timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_string()));
        }
        Ok(Mailer { transport: builder.build(), from: config.from.clone() })
    }

    pub async fn send(&self, mail: &outbox::Due) -> Result<(), SendError> {
        let to: Mailbox =
            mail.to.parse().map_err(|e| SendError { permanent: true, message: format!("the recipient {:?} is not an address: {e}", mail.to) })?;
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| SendError { permanent: true, message: format!("the mail cannot be built: {e}") })?;
        self.transport.send(message).await.map(drop).map_err(|e| SendError { permanent: e.is_permanent(), message: e.to_string() })
    }
}

/// Sends what is due, if this replica holds (or takes) the sender's lease;
/// how many mails went out.
pub async fn tick(db: &Db, mailer: &Mailer, holder: &str) -> Result<usize, DbError> {
    let mut sent = 0;
    loop {
        let at = now();
        if !outbox::any_due(db, at).await? || !leases::acquire(db, LEASE, holder, at, at + LEASE_TTL).await? {
            return Ok(sent);
        }
        let due = outbox::due(db, at, BATCH).await?;
        for mail in &due {
            match mailer.send(mail).await {
                Ok(()) => {
                    outbox::sent(db, mail.id).await?;
                    tracing::info!(mail_id = mail.id, kind = %mail.kind, "mail sent");
                    sent += 1;
                }
                Err(e) => {
                    let attempts = mail.attempts.saturating_add(1);
                    let wait = domain::mail::retry_delay(attempts, e.permanent);
                    let next = now() + time::Duration::try_from(wait).unwrap_or(time::Duration::HOUR);
                    outbox::failed(db, mail.id, &e.message, next).await?;
                    tracing::warn!(mail_id = mail.id, kind = %mail.kind, attempts, retry_in_s = wait.as_secs(), error = %e.message, "mail not sent; kept for a retry");
                }
            }
        }
        if due.len() < BATCH as usize {
            outbox::prune(db, now() - KEEP_SENT).await?;
            leases::release(db, LEASE, holder).await?;
            return Ok(sent);
        }
    }
}

/// The outbox worker of this replica, when mail is configured.
pub async fn worker(db: Db, mailer: Option<Arc<Mailer>>) {
    let Some(mailer) = mailer else { return };
    let holder = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        poll.tick().await;
        if let Err(e) = tick(&db, &mailer, &holder).await {
            tracing::warn!(error = %e, "the outbox could not be read or updated");
        }
    }
}
