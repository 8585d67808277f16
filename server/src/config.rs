//! One typed configuration, read from environment variables over an optional
//! `peerportal.toml` whose keys are the same names. Parsing is pure (it takes
//! the variables and the file as values) so every rule is unit-tested; a bad
//! value stops startup with one line that names the setting.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use domain::peeringdb::oidc::MfaPolicy;
use domain::session::SessionLifetime;
use domain::two_factor::TwoFactorPolicy;
use domain::RolePolicy;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// Every setting PeerPortal reads. Anything else starting with `PEERPORTAL_`
/// or `PEERINGDB_` is probably a typo and is warned about.
pub const KNOWN_SETTINGS: &[&str] = &[
    "PEERPORTAL_CONFIG",
    "PEERPORTAL_LISTEN",
    "PEERPORTAL_LOG_FORMAT",
    "PEERPORTAL_METRICS_LISTEN",
    "PEERPORTAL_PUBLIC_URL",
    "PEERPORTAL_DATABASE_URL",
    "PEERPORTAL_DEMO",
    "PEERPORTAL_DEMO_ALLOW_PUBLIC",
    "PEERPORTAL_ADMIN_PASSWORD",
    "PEERPORTAL_SECRET_KEY_FILE",
    "PEERPORTAL_SESSION_MAX_AGE",
    "PEERPORTAL_SESSION_IDLE",
    "PEERPORTAL_TRUSTED_PROXIES",
    "PEERPORTAL_IMPORT_MAX_BYTES",
    "PEERPORTAL_SERVER_TIMING",
    "PEERPORTAL_REQUIRE_2FA",
    "PEERPORTAL_SMTP_URL",
    "PEERPORTAL_SMTP_PASSWORD_FILE",
    "PEERPORTAL_MAIL_FROM",
    "PEERPORTAL_SUPPORT_EMAIL",
    "PEERPORTAL_IXF_MEMBER_TYPES",
    "PEERPORTAL_IXF_STATES",
    "PEERPORTAL_IXF_URL",
    "PEERPORTAL_IXF_IXP_ID",
    "PEERPORTAL_IXF_REFRESH",
    "AUTH_PEERINGDB_ENABLED",
    "PEERINGDB_OAUTH_CLIENT_ID",
    "PEERINGDB_OAUTH_CLIENT_SECRET",
    "PEERINGDB_OAUTH_CLIENT_SECRET_FILE",
    "PEERINGDB_OAUTH_REDIRECT",
    "PEERINGDB_OAUTH_URL",
    "PEERINGDB_CONNECT_TIMEOUT",
    "PEERINGDB_TIMEOUT",
    "PEERINGDB_ROLE_POLICY",
    "PEERINGDB_OIDC",
    "PEERINGDB_REQUIRE_MFA",
    "PEERINGDB_LINK_BY_EMAIL",
    "PEERINGDB_RESYNC_INTERVAL",
    "PEERINGDB_REQUESTS_PER_MINUTE",
    "PEERINGDB_STALE_GRACE",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name}: {problem}")]
    Invalid { name: &'static str, problem: String },
    #[error("{path}: {problem}")]
    File { path: String, problem: String },
}

fn invalid(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { name, problem: problem.into() }
}

/// The default largest CSV import: 2 MiB, some 20 000 customers.
pub const DEFAULT_IMPORT_MAX_BYTES: usize = 2 << 20;

/// How mail leaves: `Some` exactly when `PEERPORTAL_SMTP_URL` is set.
#[derive(Debug)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// `From:` of every mail, e.g. `Example IX portal <portal@example.net>`.
    pub from: lettre::message::Mailbox,
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// `smtps://`: TLS from the first byte (port 465).
    Implicit,
    /// `smtp://`: STARTTLS, required (port 587).
    StartTls,
    /// `smtp://…?tls=none`: plain SMTP, for a relay on the same host.
    None,
}

impl MailConfig {
    /// The server as logs and the console show it: never the password.
    pub fn describe(&self) -> String {
        let scheme = if self.tls == SmtpTls::Implicit { "smtps" } else { "smtp" };
        let user = self.username.as_deref().map(|u| format!("{u}@")).unwrap_or_default();
        let tls = match self.tls {
            SmtpTls::Implicit => "TLS",
            SmtpTls::StartTls => "STARTTLS",
            SmtpTls::None => "no TLS",
        };
        format!("{scheme}://{user}{}:{} ({tls})", self.host, self.port)
    }
}

/// `PEERPORTAL_SMTP_URL` and its companions.
fn parse_mail(get: &dyn Fn(&str) -> Option<String>, read_secret_file: &dyn Fn(&str) -> Result<String, String>) -> Result<Option<MailConfig>, ConfigError> {
    const NAME: &str = "PEERPORTAL_SMTP_URL";
    let Some(raw) = get(NAME) else {
        for companion in ["PEERPORTAL_MAIL_FROM", "PEERPORTAL_SMTP_PASSWORD_FILE"] {
            if get(companion).is_some() {
                return Err(invalid(companion, "is set but PEERPORTAL_SMTP_URL is not: mail is off without it"));
            }
        }
        return Ok(None);
    };
    let url = Url::parse(&raw).map_err(|e| invalid(NAME, format!("is not a URL: {e}")))?;
    let mut tls = match url.scheme() {
        "smtps" => SmtpTls::Implicit,
        "smtp" => SmtpTls::StartTls,
        other => return Err(invalid(NAME, format!("{other}:// is not smtp:// (STARTTLS) or smtps:// (TLS)"))),
    };
    for (key, value) in url.query_pairs() {
        match (key.as_ref(), value.as_ref()) {
            ("tls", "none") if tls == SmtpTls::StartTls => tls = SmtpTls::None,
            ("tls", "starttls") if tls == SmtpTls::StartTls => {}
            _ => return Err(invalid(NAME, format!("?{key}={value} is not understood (only smtp://…?tls=none, for a relay on this host)"))),
        }
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| invalid(NAME, "has no host"))?.trim_matches(['[', ']']).to_string();
    let port = url.port().unwrap_or(match tls {
        SmtpTls::Implicit => 465,
        SmtpTls::StartTls => 587,
        SmtpTls::None => 25,
    });
    let decode = |s: &str| percent_decode(s).map_err(|e| invalid(NAME, e));
    let username = Some(url.username()).filter(|u| !u.is_empty()).map(decode).transpose()?;
    let password = match (url.password(), get("PEERPORTAL_SMTP_PASSWORD_FILE")) {
        (Some(_), Some(_)) => return Err(invalid("PEERPORTAL_SMTP_PASSWORD_FILE", "is set but the URL has a password too: keep one")),
        (Some(p), None) => Some(decode(p)?),
        (None, Some(path)) => Some(
            read_secret_file(&path)
                .map_err(|e| invalid("PEERPORTAL_SMTP_PASSWORD_FILE", format!("cannot read {path}: {e}")))?
                .trim()
                .to_string(),
        ),
        (None, None) => None,
    };
    if password.is_some() && username.is_none() {
        return Err(invalid(NAME, "has a password but no user name (smtp://user:password@host)"));
    }
    let from = get("PEERPORTAL_MAIL_FROM").ok_or_else(|| invalid("PEERPORTAL_MAIL_FROM", "is required when PEERPORTAL_SMTP_URL is set"))?;
    let from: lettre::message::Mailbox =
        from.parse().map_err(|e| invalid("PEERPORTAL_MAIL_FROM", format!("{from:?} is not an address such as \"Example IX <portal@example.net>\": {e}")))?;
    Ok(Some(MailConfig { host, port, tls, username, password: password.map(SecretString::from), from }))
}

fn percent_decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s).decode_utf8().map(|c| c.into_owned()).map_err(|_| "has a %-escape that is not UTF-8".to_string())
}

#[derive(Debug)]
pub struct PeeringDbConfig {
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: Url,
    pub base_url: Url,
    /// How long to wait for PeeringDB to accept a connection.
    pub connect_timeout: Duration,
    /// How long one request to PeeringDB may take in all.
    pub timeout: Duration,
    /// `PEERINGDB_OIDC=required`: ask for `openid` and refuse a login
    /// whose ID token does not check out.
    pub oidc: bool,
}

#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where `/metrics` is served; `None` (the default) serves it nowhere.
    pub metrics_listen: Option<SocketAddr>,
    pub log_format: LogFormat,
    pub public_url: Url,
    pub database_url: DatabaseUrl,
    pub demo: bool,
    /// `Some` exactly when "Login with PeeringDB" is enabled.
    pub peeringdb: Option<PeeringDbConfig>,
    pub role_policy: RolePolicy,
    /// What a PeeringDB login without a second factor gets.
    pub mfa_policy: MfaPolicy,
    /// Which password accounts must set up two-factor authentication.
    pub two_factor_policy: TwoFactorPolicy,
    pub link_by_email: bool,
    /// How long a browser session lives at most, and idle.
    pub session: SessionLifetime,
    /// The key file that seals secrets at rest (created when missing).
    pub secret_key_file: std::path::PathBuf,
    /// How often every linked user is re-synced in the background; `None`
    /// (`PEERINGDB_RESYNC_INTERVAL=0`) switches the sweep off.
    pub resync_interval: Option<Duration>,
    /// How long a stale link keeps its PeeringDB grants.
    pub stale_grace: Duration,
    /// Requests to PeeringDB per minute, all replicas together; logins
    /// come first, the re-sync uses what they leave.
    pub requests_per_minute: u32,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` is believed.
    pub trusted_proxies: domain::net::TrustedProxies,
    /// The largest CSV import the console accepts, in bytes.
    pub import_max_bytes: usize,
    /// Sends `Server-Timing` (how long PeeringDB took) on the callback: for
    /// the load driver, off in production (it tells anyone timings).
    pub server_timing: bool,
    /// Outgoing mail; `None` switches mail off.
    pub mail: Option<MailConfig>,
    /// Where people write for help: shown on refusals and in mails.
    pub support_email: Option<String>,
    /// How an IX-F export's member types and connection states become
    /// customer types and statuses.
    pub ixf_mapping: domain::ixf::Mapping,
    /// Where the exchange publishes its IX-F export, to import on a
    /// schedule; `None` imports only on demand.
    pub ixf_source: Option<IxfSource>,
}

/// The scheduled IX-F import (`PEERPORTAL_IXF_*`).
#[derive(Clone, PartialEq, Eq)]
pub struct IxfSource {
    /// May carry an API key (user, password or query): shown only through
    /// [`crate::fetch::shown`].
    pub url: Url,
    /// Which exchange of the export, when it lists several.
    pub ixp_id: Option<i64>,
    pub every: Duration,
}

impl std::fmt::Debug for IxfSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IxfSource").field("url", &crate::fetch::shown(&self.url)).field("ixp_id", &self.ixp_id).field("every", &self.every).finish()
    }
}

impl Config {
    /// True when cookies must be `Secure` and `__Host-` prefixed.
    pub fn https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The origin browsers send in `Origin` for our own pages.
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Reads the real environment, the config file and secret files.
    pub fn from_env() -> Result<(Config, Vec<String>), ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let path = env.get("PEERPORTAL_CONFIG").cloned();
        let file = match &path {
            Some(p) => Some(read_file_settings(p)?),
            None if std::path::Path::new("peerportal.toml").exists() => Some(read_file_settings("peerportal.toml")?),
            None => None,
        };
        let warnings = unknown_settings(&env);
        let config = Config::from_sources(&env, file.as_ref(), &|p| {
            std::fs::read_to_string(p).map_err(|e| e.to_string())
        })?;
        Ok((config, warnings))
    }

    /// The pure part: environment over file over defaults, then validation.
    pub fn from_sources(
        env: &BTreeMap<String, String>,
        file: Option<&BTreeMap<String, String>>,
        read_secret_file: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Config, ConfigError> {
        let get = |name: &str| -> Option<String> {
            env.get(name)
                .or_else(|| file.and_then(|f| f.get(name)))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let listen_raw = get("PEERPORTAL_LISTEN").or_else(|| get("LEPTOS_SITE_ADDR"));
        let listen: SocketAddr = match listen_raw {
            Some(v) => v
                .parse()
                .map_err(|_| invalid("PEERPORTAL_LISTEN", format!("{v:?} is not an address:port such as 127.0.0.1:3000")))?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };

        // Its own listener: Prometheus's address is the operator's to
        // firewall, and the public one never answers `/metrics`.
        let metrics_listen = match get("PEERPORTAL_METRICS_LISTEN") {
            None => None,
            Some(v) => {
                let addr: SocketAddr = v
                    .parse()
                    .map_err(|_| invalid("PEERPORTAL_METRICS_LISTEN", format!("{v:?} is not an address:port such as 127.0.0.1:9464")))?;
                if addr.port() != 0 && addr.port() == listen.port() && (addr.ip() == listen.ip() || addr.ip().is_unspecified() || listen.ip().is_unspecified()) {
                    return Err(invalid("PEERPORTAL_METRICS_LISTEN", format!("{addr} is PEERPORTAL_LISTEN's own address: metrics need a port of their own")));
                }
                Some(addr)
            }
        };

        let log_format = match get("PEERPORTAL_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(v) => return Err(invalid("PEERPORTAL_LOG_FORMAT", format!("{v:?} is not one of text, json"))),
        };

        let public_url = match get("PEERPORTAL_PUBLIC_URL") {
            Some(v) => parse_base_url("PEERPORTAL_PUBLIC_URL", &v)?,
            None => {
                let host = if listen.ip().is_unspecified() { "127.0.0.1".to_string() } else { listen.ip().to_string() };
                let host = if listen.is_ipv6() && !listen.ip().is_unspecified() { format!("[{host}]") } else { host };
                parse_base_url("PEERPORTAL_PUBLIC_URL", &format!("http://{host}:{}", listen.port()))?
            }
        };
        if public_url.scheme() == "http" && !is_loopback(&public_url) {
            return Err(invalid(
                "PEERPORTAL_PUBLIC_URL",
                format!("{public_url} must use https (plain http is only allowed on loopback addresses)"),
            ));
        }

        let database_url = get("PEERPORTAL_DATABASE_URL").unwrap_or_else(|| "sqlite://peerportal.db".to_string());
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(invalid(
                "PEERPORTAL_DATABASE_URL",
                "must start with sqlite:, postgres:// or postgresql://".to_string(),
            ));
        }

        let demo = parse_bool("PEERPORTAL_DEMO", get("PEERPORTAL_DEMO"))?.unwrap_or(false);
        let demo_allow_public = parse_bool("PEERPORTAL_DEMO_ALLOW_PUBLIC", get("PEERPORTAL_DEMO_ALLOW_PUBLIC"))?.unwrap_or(false);
        if demo && !is_loopback(&public_url) && !demo_allow_public {
            return Err(invalid(
                "PEERPORTAL_DEMO",
                format!(
                    "demo mode logs anyone in as sample users, so it only runs on a loopback public URL (got {public_url}); \
                     set PEERPORTAL_DEMO_ALLOW_PUBLIC=true if you really mean it"
                ),
            ));
        }

        let enabled = parse_bool("AUTH_PEERINGDB_ENABLED", get("AUTH_PEERINGDB_ENABLED"))?.unwrap_or(demo);
        let peeringdb = if enabled {
            let client_id = get("PEERINGDB_OAUTH_CLIENT_ID")
                .or_else(|| demo.then(|| "peerportal-demo".to_string()))
                .ok_or_else(|| invalid("PEERINGDB_OAUTH_CLIENT_ID", "is required when AUTH_PEERINGDB_ENABLED is true"))?;
            let secret = match (get("PEERINGDB_OAUTH_CLIENT_SECRET"), get("PEERINGDB_OAUTH_CLIENT_SECRET_FILE")) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "PEERINGDB_OAUTH_CLIENT_SECRET",
                        "set either it or PEERINGDB_OAUTH_CLIENT_SECRET_FILE, not both",
                    ))
                }
                (Some(s), None) => s,
                (None, Some(path)) => read_secret_file(&path)
                    .map_err(|e| invalid("PEERINGDB_OAUTH_CLIENT_SECRET_FILE", format!("cannot read {path}: {e}")))?
                    .trim()
                    .to_string(),
                (None, None) if demo => "peerportal-demo-secret".to_string(),
                (None, None) => {
                    return Err(invalid(
                        "PEERINGDB_OAUTH_CLIENT_SECRET",
                        "is required when AUTH_PEERINGDB_ENABLED is true (or use PEERINGDB_OAUTH_CLIENT_SECRET_FILE)",
                    ))
                }
            };
            if secret.is_empty() {
                return Err(invalid("PEERINGDB_OAUTH_CLIENT_SECRET", "is empty"));
            }
            let base_url = match get("PEERINGDB_OAUTH_URL") {
                Some(v) => parse_base_url("PEERINGDB_OAUTH_URL", &v)?,
                None if demo => {
                    parse_base_url("PEERINGDB_OAUTH_URL", &format!("{}/peeringdb-sim", public_url.as_str().trim_end_matches('/')))?
                }
                None => parse_base_url("PEERINGDB_OAUTH_URL", "https://auth.peeringdb.com")?,
            };
            if base_url.scheme() != "https" && !is_loopback(&base_url) {
                return Err(invalid("PEERINGDB_OAUTH_URL", format!("{base_url} must use https")));
            }
            let redirect_uri = match get("PEERINGDB_OAUTH_REDIRECT") {
                Some(v) => Url::parse(&v).map_err(|e| invalid("PEERINGDB_OAUTH_REDIRECT", format!("{v:?} is not a URL: {e}")))?,
                None => public_url
                    .join("auth/peeringdb/callback")
                    .map_err(|e| invalid("PEERINGDB_OAUTH_REDIRECT", e.to_string()))?,
            };
            if redirect_uri.path() != "/auth/peeringdb/callback" || redirect_uri.query().is_some() {
                return Err(invalid(
                    "PEERINGDB_OAUTH_REDIRECT",
                    format!("{redirect_uri} must end in /auth/peeringdb/callback, with no query"),
                ));
            }
            if redirect_uri.scheme() != "https" && !is_loopback(&redirect_uri) {
                return Err(invalid("PEERINGDB_OAUTH_REDIRECT", format!("{redirect_uri} must use https (PeeringDB accepts only https)")));
            }
            let connect_timeout = parse_duration("PEERINGDB_CONNECT_TIMEOUT", get("PEERINGDB_CONNECT_TIMEOUT"))?.unwrap_or(Duration::from_secs(5));
            let timeout = parse_duration("PEERINGDB_TIMEOUT", get("PEERINGDB_TIMEOUT"))?.unwrap_or(Duration::from_secs(10));
            let oidc = match get("PEERINGDB_OIDC").as_deref() {
                None | Some("required") => true,
                Some("off") => false,
                Some(v) => return Err(invalid("PEERINGDB_OIDC", format!("{v:?} is not one of required, off"))),
            };
            Some(PeeringDbConfig { client_id, client_secret: SecretString::from(secret), redirect_uri, base_url, connect_timeout, timeout, oidc })
        } else {
            None
        };

        let role_policy = match get("PEERINGDB_ROLE_POLICY") {
            None => RolePolicy::Perms,
            Some(v) => RolePolicy::parse(&v).map_err(|_| invalid("PEERINGDB_ROLE_POLICY", format!("{v:?} is not one of perms, member, admin")))?,
        };
        let mfa_policy = match get("PEERINGDB_REQUIRE_MFA") {
            None => MfaPolicy::Admins,
            Some(v) => MfaPolicy::parse(&v).map_err(|_| invalid("PEERINGDB_REQUIRE_MFA", format!("{v:?} is not one of off, admins, all")))?,
        };
        let two_factor_policy = match get("PEERPORTAL_REQUIRE_2FA") {
            None => TwoFactorPolicy::Superadmins,
            Some(v) => TwoFactorPolicy::parse(&v)
                .map_err(|_| invalid("PEERPORTAL_REQUIRE_2FA", format!("{v:?} is not one of off, superadmins, all")))?,
        };
        let link_by_email = parse_bool("PEERINGDB_LINK_BY_EMAIL", get("PEERINGDB_LINK_BY_EMAIL"))?.unwrap_or(false);

        let defaults = SessionLifetime::default();
        let session_time = |name: &'static str, default: time::Duration| -> Result<time::Duration, ConfigError> {
            match parse_duration(name, get(name))? {
                None => Ok(default),
                Some(d) => time::Duration::try_from(d).map_err(|_| invalid(name, "is too long")),
            }
        };
        let session = SessionLifetime {
            max_age: session_time("PEERPORTAL_SESSION_MAX_AGE", defaults.max_age)?,
            idle: session_time("PEERPORTAL_SESSION_IDLE", defaults.idle)?,
        };

        let secret_key_file = get("PEERPORTAL_SECRET_KEY_FILE").unwrap_or_else(|| "peerportal.key".to_string()).into();
        let resync_interval = match get("PEERINGDB_RESYNC_INTERVAL").as_deref() {
            Some("0") => None,
            other => Some(parse_duration("PEERINGDB_RESYNC_INTERVAL", other.map(str::to_owned))?.unwrap_or(Duration::from_secs(24 * 3600))),
        };
        let requests_per_minute = match get("PEERINGDB_REQUESTS_PER_MINUTE") {
            None => 60,
            Some(v) => v.parse::<u32>().ok().filter(|n| *n >= 3).ok_or_else(|| {
                invalid("PEERINGDB_REQUESTS_PER_MINUTE", format!("{v:?} is not a whole number of at least 3 (one re-sync takes 3 requests)"))
            })?,
        };
        let stale_grace = parse_duration("PEERINGDB_STALE_GRACE", get("PEERINGDB_STALE_GRACE"))?.unwrap_or(Duration::from_secs(7 * 86_400));

        let trusted_proxies = domain::net::TrustedProxies::parse(&get("PEERPORTAL_TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|e| invalid("PEERPORTAL_TRUSTED_PROXIES", e))?;
        let import_max_bytes = match get("PEERPORTAL_IMPORT_MAX_BYTES") {
            None => DEFAULT_IMPORT_MAX_BYTES,
            Some(v) => v.parse::<usize>().ok().filter(|n| (1024..=1 << 30).contains(n)).ok_or_else(|| {
                invalid("PEERPORTAL_IMPORT_MAX_BYTES", format!("{v:?} is not a number of bytes between 1024 and 1073741824"))
            })?,
        };
        let server_timing = parse_bool("PEERPORTAL_SERVER_TIMING", get("PEERPORTAL_SERVER_TIMING"))?.unwrap_or(false);

        let mail = parse_mail(&get, read_secret_file)?;
        let support_email = get("PEERPORTAL_SUPPORT_EMAIL")
            .map(|v| domain::Email::parse(&v).map(|e| e.as_str().to_string()).map_err(|e| invalid("PEERPORTAL_SUPPORT_EMAIL", e)))
            .transpose()?;

        let (types, states) = (get("PEERPORTAL_IXF_MEMBER_TYPES"), get("PEERPORTAL_IXF_STATES"));
        domain::ixf::Mapping::parse(types.as_deref(), None).map_err(|e| invalid("PEERPORTAL_IXF_MEMBER_TYPES", e))?;
        let ixf_mapping = domain::ixf::Mapping::parse(types.as_deref(), states.as_deref()).map_err(|e| invalid("PEERPORTAL_IXF_STATES", e))?;

        let ixf_source = match get("PEERPORTAL_IXF_URL") {
            None => None,
            Some(v) => Some(IxfSource {
                url: parse_fetch_url("PEERPORTAL_IXF_URL", &v)?,
                ixp_id: get("PEERPORTAL_IXF_IXP_ID")
                    .map(|v| v.parse::<i64>().map_err(|_| invalid("PEERPORTAL_IXF_IXP_ID", format!("{v:?} is not a number"))))
                    .transpose()?,
                every: match parse_duration("PEERPORTAL_IXF_REFRESH", get("PEERPORTAL_IXF_REFRESH"))? {
                    None => Duration::from_secs(3600),
                    Some(d) if d >= Duration::from_secs(60) => d,
                    Some(_) => return Err(invalid("PEERPORTAL_IXF_REFRESH", "must be at least a minute (e.g. 1h)")),
                },
            }),
        };

        let database_url = DatabaseUrl(database_url);
        Ok(Config {
            listen,
            metrics_listen,
            log_format,
            public_url,
            database_url,
            demo,
            peeringdb,
            role_policy,
            mfa_policy,
            two_factor_policy,
            link_by_email,
            session,
            secret_key_file,
            resync_interval,
            stale_grace,
            requests_per_minute,
            trusted_proxies,
            import_max_bytes,
            server_timing,
            mail,
            support_email,
            ixf_mapping,
            ixf_source,
        })
    }

    /// A log line describing the configuration, without any secret.
    pub fn summary(&self) -> String {
        format!(
            "listen={} metrics={} public_url={} database={} demo={} peeringdb_login={} role_policy={} require_mfa={} require_2fa={} link_by_email={} session_max_age={} session_idle={} trusted_proxies=[{}] mail={}",
            self.listen,
            self.metrics_listen.map_or("off".to_string(), |a| a.to_string()),
            self.public_url,
            self.database_url,
            self.demo,
            self.peeringdb.as_ref().map_or("off".to_string(), |p| {
                format!("on (client_id={}, {}, oidc={})", p.client_id, p.base_url, if p.oidc { "required" } else { "off" })
            }),
            self.role_policy,
            self.mfa_policy,
            self.two_factor_policy,
            self.link_by_email,
            self.session.max_age,
            self.session.idle,
            self.trusted_proxies,
            self.mail.as_ref().map_or("off".to_string(), |m| format!("{} from {}", m.describe(), m.from)),
        )
    }
}

impl Config {
    /// Every setting with the value in effect, by its variable's name, for
    /// `peerportal check-config`. Secrets show only whether they are set.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        fn secs(d: Duration) -> String {
            format!("{}s", d.as_secs())
        }
        fn pairs<'a>(all: impl Iterator<Item = (&'a String, &'a str)>) -> String {
            all.map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
        }
        fn hidden(set: bool) -> String {
            (if set { "(set, hidden)" } else { "(not set)" }).to_string()
        }
        let mut out = vec![
            ("PEERPORTAL_LISTEN", self.listen.to_string()),
            ("PEERPORTAL_METRICS_LISTEN", self.metrics_listen.map_or("off".into(), |a| a.to_string())),
            ("PEERPORTAL_LOG_FORMAT", format!("{:?}", self.log_format).to_lowercase()),
            ("PEERPORTAL_PUBLIC_URL", self.public_url.to_string()),
            ("PEERPORTAL_DATABASE_URL", self.database_url.to_string()),
            ("PEERPORTAL_DEMO", self.demo.to_string()),
            ("PEERPORTAL_SECRET_KEY_FILE", self.secret_key_file.display().to_string()),
            ("PEERPORTAL_SESSION_MAX_AGE", self.session.max_age.to_string()),
            ("PEERPORTAL_SESSION_IDLE", self.session.idle.to_string()),
            ("PEERPORTAL_TRUSTED_PROXIES", self.trusted_proxies.to_string()),
            ("PEERPORTAL_IMPORT_MAX_BYTES", self.import_max_bytes.to_string()),
            ("PEERPORTAL_SERVER_TIMING", self.server_timing.to_string()),
            ("PEERPORTAL_REQUIRE_2FA", self.two_factor_policy.to_string()),
            ("PEERPORTAL_SMTP_URL", self.mail.as_ref().map_or("off".into(), |m| m.describe())),
            ("PEERPORTAL_SMTP_PASSWORD", hidden(self.mail.as_ref().is_some_and(|m| m.password.is_some()))),
            ("PEERPORTAL_MAIL_FROM", self.mail.as_ref().map_or("(mail off)".into(), |m| m.from.to_string())),
            ("PEERPORTAL_SUPPORT_EMAIL", self.support_email.clone().unwrap_or_else(|| "(not set)".into())),
            ("AUTH_PEERINGDB_ENABLED", self.peeringdb.is_some().to_string()),
            ("PEERPORTAL_IXF_MEMBER_TYPES", pairs(self.ixf_mapping.member_types.iter().map(|(k, v)| (k, v.as_str())))),
            ("PEERPORTAL_IXF_STATES", pairs(self.ixf_mapping.states.iter().map(|(k, v)| (k, v.as_str())))),
            ("PEERPORTAL_IXF_URL", self.ixf_source.as_ref().map_or("off".into(), |s| crate::fetch::shown(&s.url))),
        ];
        if let Some(s) = &self.ixf_source {
            out.push(("PEERPORTAL_IXF_IXP_ID", s.ixp_id.map_or("(the only exchange of the export)".into(), |id| id.to_string())));
            out.push(("PEERPORTAL_IXF_REFRESH", secs(s.every)));
        }
        if let Some(p) = &self.peeringdb {
            out.extend([
                ("PEERINGDB_OAUTH_URL", p.base_url.to_string()),
                ("PEERINGDB_OAUTH_CLIENT_ID", p.client_id.clone()),
                ("PEERINGDB_OAUTH_CLIENT_SECRET", hidden(!p.secret().is_empty())),
                ("PEERINGDB_OAUTH_REDIRECT", p.redirect_uri.to_string()),
                ("PEERINGDB_CONNECT_TIMEOUT", secs(p.connect_timeout)),
                ("PEERINGDB_TIMEOUT", format!("{}ms", p.timeout.as_millis())),
                ("PEERINGDB_OIDC", (if p.oidc { "required" } else { "off" }).into()),
            ]);
        }
        out.extend([
            ("PEERINGDB_ROLE_POLICY", self.role_policy.to_string()),
            ("PEERINGDB_REQUIRE_MFA", self.mfa_policy.to_string()),
            ("PEERINGDB_LINK_BY_EMAIL", self.link_by_email.to_string()),
            ("PEERINGDB_RESYNC_INTERVAL", self.resync_interval.map_or("0 (off)".into(), secs)),
            ("PEERINGDB_REQUESTS_PER_MINUTE", self.requests_per_minute.to_string()),
            ("PEERINGDB_STALE_GRACE", secs(self.stale_grace)),
        ]);
        out
    }
}

impl PeeringDbConfig {
    pub fn secret(&self) -> &str {
        self.client_secret.expose_secret()
    }
}

/// How log lines are written: text, or one JSON object per line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A database URL, which may carry a password: printed with it hidden.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Both the password and the whole query string (which may carry
        // `password=`, `sslkey=` and the like) are hidden.
        match Url::parse(&self.0) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                if u.query().is_some() {
                    u.set_query(Some("***"));
                }
                write!(f, "{u}")
            }
            Err(_) => f.write_str("(unparsable URL hidden)"),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

fn parse_base_url(name: &'static str, v: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(v).map_err(|e| invalid(name, format!("{v:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(name, format!("{v:?} must be an http(s) URL with a host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(name, format!("{v:?} must not have a query or fragment")));
    }
    // A trailing path is allowed (a portal under a prefix), but normalised
    // without the trailing slash so joins are predictable.
    let trimmed = url.as_str().trim_end_matches('/').to_string();
    Url::parse(&trimmed).map_err(|e| invalid(name, e.to_string()))
}

/// A URL the portal fetches (the IX-F export): http(s) with a host. Its
/// user or query may carry an API key, so the error never repeats it.
fn parse_fetch_url(name: &'static str, v: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(v).map_err(|e| invalid(name, format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(name, "must be an http(s) URL with a host"));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A duration as `500ms`, `10s`, `30m`, `12h`, `7d` or a plain number of
/// seconds; never zero.
fn parse_duration(name: &'static str, v: Option<String>) -> Result<Option<Duration>, ConfigError> {
    let Some(v) = v else { return Ok(None) };
    let t = v.trim();
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let seconds = |n: u64, per: u64| n.checked_mul(per).map(Duration::from_secs);
    let parsed = number.parse::<u64>().ok().and_then(|n| match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => seconds(n, 60),
        "h" => seconds(n, 3600),
        "d" => seconds(n, 86_400),
        _ => None,
    });
    match parsed {
        Some(d) if !d.is_zero() => Ok(Some(d)),
        _ => Err(invalid(name, format!("{v:?} is not a duration such as 500ms, 10s, 30m, 12h or 7d"))),
    }
}

fn parse_bool(name: &'static str, v: Option<String>) -> Result<Option<bool>, ConfigError> {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some("0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(other) => Err(invalid(name, format!("{other:?} is not a boolean (use true or false)"))),
    }
}

/// Reads `peerportal.toml`: a flat table whose keys are the setting names.
pub fn read_file_settings(path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File { path: path.into(), problem: e.to_string() })?;
    parse_file_settings(&text).map_err(|problem| ConfigError::File { path: path.into(), problem })
}

pub fn parse_file_settings(text: &str) -> Result<BTreeMap<String, String>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.message().to_string())?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if !KNOWN_SETTINGS.contains(&key.as_str()) {
            return Err(format!("unknown setting {key:?} (settings use their environment variable names, e.g. PEERPORTAL_LISTEN)"));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => return Err(format!("{key}: expected a string, number or boolean, got {}", other.type_str())),
        };
        out.insert(key, value);
    }
    Ok(out)
}

/// Names of variables that look like ours but are not known settings.
pub fn unknown_settings(env: &BTreeMap<String, String>) -> Vec<String> {
    env.keys()
        .filter(|k| (k.starts_with("PEERPORTAL_") || k.starts_with("PEERINGDB_")) && !KNOWN_SETTINGS.contains(&k.as_str()))
        .map(|k| format!("ignoring unknown setting {k}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn no_files(_: &str) -> Result<String, String> {
        Err("no such file".into())
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_sources(&env(pairs), None, &no_files)
    }

    fn setting_named(err: ConfigError) -> &'static str {
        match err {
            ConfigError::Invalid { name, .. } => name,
            ConfigError::File { .. } => "file",
        }
    }

    #[test]
    fn defaults_serve_sqlite_on_loopback_with_peeringdb_off() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url.as_str(), "http://127.0.0.1:3000/");
        assert_eq!(c.database_url.expose(), "sqlite://peerportal.db");
        assert!(c.peeringdb.is_none());
        assert!(!c.demo);
        assert_eq!(c.role_policy, RolePolicy::Perms);
        assert_eq!(c.mfa_policy, MfaPolicy::Admins);
        assert_eq!(c.two_factor_policy, TwoFactorPolicy::Superadmins);
        assert!(!c.link_by_email);
    }

    #[test]
    fn leptos_site_addr_is_honoured_but_peerportal_listen_wins() {
        assert_eq!(parse(&[("LEPTOS_SITE_ADDR", "127.0.0.1:4000")]).unwrap().listen.port(), 4000);
        let c = parse(&[("LEPTOS_SITE_ADDR", "127.0.0.1:4000"), ("PEERPORTAL_LISTEN", "127.0.0.1:5000")]).unwrap();
        assert_eq!(c.listen.port(), 5000);
    }

    #[test]
    fn malformed_values_name_their_setting() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("PEERPORTAL_LISTEN", "not an address")], "PEERPORTAL_LISTEN"),
            (&[("PEERPORTAL_METRICS_LISTEN", "9464")], "PEERPORTAL_METRICS_LISTEN"),
            (&[("PEERPORTAL_LOG_FORMAT", "xml")], "PEERPORTAL_LOG_FORMAT"),
            (&[("PEERPORTAL_IXF_MEMBER_TYPES", "peering=gold")], "PEERPORTAL_IXF_MEMBER_TYPES"),
            (&[("PEERPORTAL_IXF_STATES", "inactive")], "PEERPORTAL_IXF_STATES"),
            (&[("PEERPORTAL_IXF_URL", "ixf.json")], "PEERPORTAL_IXF_URL"),
            (&[("PEERPORTAL_IXF_URL", "https://ixp.example.net/ixf"), ("PEERPORTAL_IXF_REFRESH", "10s")], "PEERPORTAL_IXF_REFRESH"),
            (&[("PEERPORTAL_IXF_URL", "https://ixp.example.net/ixf"), ("PEERPORTAL_IXF_IXP_ID", "one")], "PEERPORTAL_IXF_IXP_ID"),
            (&[("PEERPORTAL_LISTEN", "127.0.0.1:4000"), ("PEERPORTAL_METRICS_LISTEN", "0.0.0.0:4000")], "PEERPORTAL_METRICS_LISTEN"),
            (&[("PEERPORTAL_PUBLIC_URL", "portal.example.net")], "PEERPORTAL_PUBLIC_URL"),
            (&[("PEERPORTAL_PUBLIC_URL", "http://portal.example.net")], "PEERPORTAL_PUBLIC_URL"),
            (&[("PEERPORTAL_DATABASE_URL", "mysql://x")], "PEERPORTAL_DATABASE_URL"),
            (&[("PEERPORTAL_DEMO", "maybe")], "PEERPORTAL_DEMO"),
            (&[("AUTH_PEERINGDB_ENABLED", "yes please")], "AUTH_PEERINGDB_ENABLED"),
            (&[("PEERINGDB_ROLE_POLICY", "owner")], "PEERINGDB_ROLE_POLICY"),
            (&[("PEERINGDB_REQUIRE_MFA", "sometimes")], "PEERINGDB_REQUIRE_MFA"),
            (&[("PEERPORTAL_REQUIRE_2FA", "admins")], "PEERPORTAL_REQUIRE_2FA"),
            (&[("PEERPORTAL_DEMO", "true"), ("PEERINGDB_OIDC", "optional")], "PEERINGDB_OIDC"),
            (&[("PEERINGDB_LINK_BY_EMAIL", "2")], "PEERINGDB_LINK_BY_EMAIL"),
            (&[("PEERPORTAL_DEMO", "true"), ("PEERINGDB_TIMEOUT", "soon")], "PEERINGDB_TIMEOUT"),
            (&[("PEERPORTAL_DEMO", "true"), ("PEERINGDB_TIMEOUT", "0s")], "PEERINGDB_TIMEOUT"),
            (&[("PEERPORTAL_DEMO", "true"), ("PEERINGDB_CONNECT_TIMEOUT", "-1")], "PEERINGDB_CONNECT_TIMEOUT"),
            (&[("PEERPORTAL_SESSION_MAX_AGE", "12 hours")], "PEERPORTAL_SESSION_MAX_AGE"),
            (&[("PEERPORTAL_SESSION_IDLE", "0m")], "PEERPORTAL_SESSION_IDLE"),
            (&[("PEERPORTAL_TRUSTED_PROXIES", "10.0.0.1, nginx")], "PEERPORTAL_TRUSTED_PROXIES"),
            (&[("PEERPORTAL_IMPORT_MAX_BYTES", "lots")], "PEERPORTAL_IMPORT_MAX_BYTES"),
            (&[("PEERPORTAL_SERVER_TIMING", "sometimes")], "PEERPORTAL_SERVER_TIMING"),
        ];
        for (pairs, name) in cases {
            assert_eq!(setting_named(parse(pairs).unwrap_err()), *name, "{pairs:?}");
        }
    }

    #[test]
    fn enabling_peeringdb_requires_client_id_and_secret() {
        let e = parse(&[("AUTH_PEERINGDB_ENABLED", "true")]).unwrap_err();
        assert_eq!(setting_named(e), "PEERINGDB_OAUTH_CLIENT_ID");
        let e = parse(&[("AUTH_PEERINGDB_ENABLED", "true"), ("PEERINGDB_OAUTH_CLIENT_ID", "abc")]).unwrap_err();
        assert_eq!(setting_named(e), "PEERINGDB_OAUTH_CLIENT_SECRET");
    }

    #[test]
    fn peeringdb_defaults_follow_the_public_url() {
        let c = parse(&[
            ("PEERPORTAL_PUBLIC_URL", "https://portal.example.net/"),
            ("AUTH_PEERINGDB_ENABLED", "1"),
            ("PEERINGDB_OAUTH_CLIENT_ID", "abc"),
            ("PEERINGDB_OAUTH_CLIENT_SECRET", "s3cret"),
        ])
        .unwrap();
        let p = c.peeringdb.as_ref().unwrap();
        assert_eq!(p.redirect_uri.as_str(), "https://portal.example.net/auth/peeringdb/callback");
        assert_eq!(p.base_url.as_str(), "https://auth.peeringdb.com/");
        assert!(c.https());
        assert_eq!(c.origin(), "https://portal.example.net");
    }

    #[test]
    fn the_resync_runs_daily_unless_switched_off_and_stale_links_keep_access_a_week() {
        let c = parse(&[]).unwrap();
        assert_eq!((c.resync_interval, c.stale_grace), (Some(Duration::from_secs(86_400)), Duration::from_secs(7 * 86_400)));
        let c = parse(&[("PEERINGDB_RESYNC_INTERVAL", "0"), ("PEERINGDB_STALE_GRACE", "2d")]).unwrap();
        assert_eq!((c.resync_interval, c.stale_grace), (None, Duration::from_secs(2 * 86_400)));
        assert_eq!(setting_named(parse(&[("PEERINGDB_RESYNC_INTERVAL", "daily")]).unwrap_err()), "PEERINGDB_RESYNC_INTERVAL");
    }

    #[test]
    fn sessions_last_twelve_hours_at_most_and_two_idle_unless_set() {
        let c = parse(&[]).unwrap();
        assert_eq!((c.session.max_age, c.session.idle), (time::Duration::hours(12), time::Duration::hours(2)));
        let c = parse(&[("PEERPORTAL_SESSION_MAX_AGE", "1d"), ("PEERPORTAL_SESSION_IDLE", "30m")]).unwrap();
        assert_eq!((c.session.max_age, c.session.idle), (time::Duration::days(1), time::Duration::minutes(30)));
    }

    #[test]
    fn peeringdb_timeouts_default_to_five_and_ten_seconds_and_take_units() {
        let demo = parse(&[("PEERPORTAL_DEMO", "true")]).unwrap();
        let pdb = demo.peeringdb.unwrap();
        assert_eq!((pdb.connect_timeout, pdb.timeout), (Duration::from_secs(5), Duration::from_secs(10)));
        let c = parse(&[("PEERPORTAL_DEMO", "true"), ("PEERINGDB_TIMEOUT", "300ms"), ("PEERINGDB_CONNECT_TIMEOUT", "2")]).unwrap();
        let pdb = c.peeringdb.unwrap();
        assert_eq!((pdb.connect_timeout, pdb.timeout), (Duration::from_secs(2), Duration::from_millis(300)));
    }

    #[test]
    fn secret_can_come_from_a_file_but_not_from_both() {
        let files = |p: &str| if p == "/run/secret" { Ok("from-file\n".to_string()) } else { Err("missing".into()) };
        let base = [("AUTH_PEERINGDB_ENABLED", "true"), ("PEERINGDB_OAUTH_CLIENT_ID", "abc")];
        let mut pairs = base.to_vec();
        pairs.push(("PEERINGDB_OAUTH_CLIENT_SECRET_FILE", "/run/secret"));
        let c = Config::from_sources(&env(&pairs), None, &files).unwrap();
        assert_eq!(c.peeringdb.unwrap().secret(), "from-file");

        pairs.push(("PEERINGDB_OAUTH_CLIENT_SECRET", "inline"));
        let e = Config::from_sources(&env(&pairs), None, &files).unwrap_err();
        assert_eq!(setting_named(e), "PEERINGDB_OAUTH_CLIENT_SECRET");

        let mut missing = base.to_vec();
        missing.push(("PEERINGDB_OAUTH_CLIENT_SECRET_FILE", "/nope"));
        let e = Config::from_sources(&env(&missing), None, &files).unwrap_err();
        assert_eq!(setting_named(e), "PEERINGDB_OAUTH_CLIENT_SECRET_FILE");
    }

    #[test]
    fn redirect_uri_must_be_our_callback_over_https() {
        let base = [
            ("PEERPORTAL_PUBLIC_URL", "https://portal.example.net"),
            ("AUTH_PEERINGDB_ENABLED", "true"),
            ("PEERINGDB_OAUTH_CLIENT_ID", "abc"),
            ("PEERINGDB_OAUTH_CLIENT_SECRET", "s"),
        ];
        for bad in ["https://portal.example.net/elsewhere", "http://portal.example.net/auth/peeringdb/callback", "https://portal.example.net/auth/peeringdb/callback?x=1"] {
            let mut pairs = base.to_vec();
            pairs.push(("PEERINGDB_OAUTH_REDIRECT", bad));
            assert_eq!(setting_named(parse(&pairs).unwrap_err()), "PEERINGDB_OAUTH_REDIRECT", "{bad}");
        }
    }

    #[test]
    fn demo_mode_refuses_a_public_url_unless_forced() {
        let e = parse(&[("PEERPORTAL_DEMO", "true"), ("PEERPORTAL_PUBLIC_URL", "https://portal.example.net")]).unwrap_err();
        assert_eq!(setting_named(e), "PEERPORTAL_DEMO");
        let c = parse(&[
            ("PEERPORTAL_DEMO", "true"),
            ("PEERPORTAL_PUBLIC_URL", "https://portal.example.net"),
            ("PEERPORTAL_DEMO_ALLOW_PUBLIC", "true"),
        ])
        .unwrap();
        assert!(c.demo);
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = parse_file_settings("PEERPORTAL_LISTEN = \"127.0.0.1:4000\"\nPEERINGDB_LINK_BY_EMAIL = true\n").unwrap();
        let c = Config::from_sources(&env(&[("PEERPORTAL_LISTEN", "127.0.0.1:5000")]), Some(&file), &no_files).unwrap();
        assert_eq!(c.listen.port(), 5000);
        assert!(c.link_by_email);
    }

    #[test]
    fn file_with_an_unknown_key_is_refused_by_name() {
        let e = parse_file_settings("PEERPORTAL_LISTN = \"x\"").unwrap_err();
        assert!(e.contains("PEERPORTAL_LISTN"), "{e}");
    }

    #[test]
    fn typos_in_our_namespace_are_reported() {
        let w = unknown_settings(&env(&[("PEERINGDB_OAUTH_CLIENTID", "x"), ("HOME", "/root"), ("PEERPORTAL_LISTEN", "x")]));
        assert_eq!(w, vec!["ignoring unknown setting PEERINGDB_OAUTH_CLIENTID".to_string()]);
    }

    #[test]
    fn secrets_never_appear_in_debug_or_summary() {
        let c = parse(&[
            ("AUTH_PEERINGDB_ENABLED", "true"),
            ("PEERINGDB_OAUTH_CLIENT_ID", "abc"),
            ("PEERINGDB_OAUTH_CLIENT_SECRET", "hunter2-very-secret"),
            ("PEERPORTAL_DATABASE_URL", "postgres://pp:dbpass@127.0.0.1/pp"),
            // IXP Manager publishes a full member export behind an API key.
            ("PEERPORTAL_IXF_URL", "https://ixp.example.net/api/v4/member-export/ixf/1.0?apikey=ixf-api-key"),
        ])
        .unwrap();
        let settings = c.settings().into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n");
        assert!(settings.contains("PEERPORTAL_IXF_URL=https://ixp.example.net/api/v4/member-export/ixf/1.0?…"), "{settings}");
        for text in [format!("{c:?}"), c.summary(), settings] {
            assert!(!text.contains("hunter2-very-secret"), "{text}");
            assert!(!text.contains("dbpass"), "{text}");
            assert!(!text.contains("ixf-api-key"), "{text}");
        }
        let e = parse(&[("PEERPORTAL_IXF_URL", "ftp://ixp.example.net/ixf?apikey=ixf-api-key")]).unwrap_err().to_string();
        assert!(e.contains("PEERPORTAL_IXF_URL") && !e.contains("ixf-api-key"), "{e}");
    }

    #[test]
    fn the_database_url_printed_hides_the_whole_query_string() {
        let url = DatabaseUrl("postgres://pp@127.0.0.1/pp?sslmode=verify-full&password=querypass&sslpassword=keypass".into());
        let shown = url.to_string();
        assert_eq!(shown, "postgres://pp@127.0.0.1/pp?***");
        assert_eq!(DatabaseUrl("sqlite://peerportal.db?mode=rwc".into()).to_string(), "sqlite://peerportal.db?***");
        assert_eq!(DatabaseUrl("sqlite://peerportal.db".into()).to_string(), "sqlite://peerportal.db");
    }

    #[test]
    fn trusted_proxies_import_limit_and_server_timing_have_safe_defaults() {
        let c = parse(&[]).unwrap();
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.import_max_bytes, DEFAULT_IMPORT_MAX_BYTES);
        assert!(!c.server_timing);
        let c = parse(&[("PEERPORTAL_TRUSTED_PROXIES", "127.0.0.1 10.0.0.0/8"), ("PEERPORTAL_SERVER_TIMING", "true")]).unwrap();
        assert!(c.trusted_proxies.trusts("10.1.2.3".parse().unwrap()) && c.server_timing);
    }

    #[test]
    fn mail_is_off_without_an_smtp_url_and_its_companions_alone_are_an_error() {
        let c = parse(&[]).unwrap();
        assert!(c.mail.is_none() && c.support_email.is_none());
        assert_eq!(setting_named(parse(&[("PEERPORTAL_MAIL_FROM", "a@b.net")]).unwrap_err()), "PEERPORTAL_MAIL_FROM");
    }

    #[test]
    fn smtp_urls_choose_tls_and_port_and_keep_the_password_out_of_sight() {
        let from = ("PEERPORTAL_MAIL_FROM", "Example IX <portal@ix.example>");
        let c = parse(&[("PEERPORTAL_SMTP_URL", "smtp://relay%40ix:p%40ss@mail.ix.example"), from]).unwrap();
        let m = c.mail.as_ref().unwrap();
        assert_eq!((m.host.as_str(), m.port, m.tls), ("mail.ix.example", 587, SmtpTls::StartTls));
        assert_eq!(m.username.as_deref(), Some("relay@ix"));
        assert_eq!(m.password.as_ref().unwrap().expose_secret(), "p@ss");
        assert_eq!(m.from.name.as_deref(), Some("Example IX"));
        assert!(!c.summary().contains("p@ss") && !format!("{c:?}").contains("p@ss"), "{}", c.summary());
        assert!(c.summary().contains("mail=smtp://relay@ix@mail.ix.example:587 (STARTTLS)"), "{}", c.summary());

        let m = parse(&[("PEERPORTAL_SMTP_URL", "smtps://mail.ix.example"), from]).unwrap().mail.unwrap();
        assert_eq!((m.port, m.tls), (465, SmtpTls::Implicit));
        let m = parse(&[("PEERPORTAL_SMTP_URL", "smtp://127.0.0.1?tls=none"), from]).unwrap().mail.unwrap();
        assert_eq!((m.port, m.tls), (25, SmtpTls::None));
    }

    #[test]
    fn bad_mail_settings_stop_startup_naming_the_setting() {
        let from = ("PEERPORTAL_MAIL_FROM", "portal@ix.example");
        for (url, name) in [
            ("http://mail.ix.example", "PEERPORTAL_SMTP_URL"),
            ("smtps://mail.ix.example?tls=none", "PEERPORTAL_SMTP_URL"),
            ("smtp://:secret@mail.ix.example", "PEERPORTAL_SMTP_URL"),
            ("not a url", "PEERPORTAL_SMTP_URL"),
        ] {
            assert_eq!(setting_named(parse(&[("PEERPORTAL_SMTP_URL", url), from]).unwrap_err()), name, "{url}");
        }
        let no_from = parse(&[("PEERPORTAL_SMTP_URL", "smtp://mail.ix.example")]).unwrap_err();
        assert_eq!(setting_named(no_from), "PEERPORTAL_MAIL_FROM");
        let bad_from = parse(&[("PEERPORTAL_SMTP_URL", "smtp://mail.ix.example"), ("PEERPORTAL_MAIL_FROM", "not an address")]).unwrap_err();
        assert_eq!(setting_named(bad_from), "PEERPORTAL_MAIL_FROM");
        let both = Config::from_sources(
            &env(&[("PEERPORTAL_SMTP_URL", "smtp://u:p@mail.ix.example"), from, ("PEERPORTAL_SMTP_PASSWORD_FILE", "/run/pw")]),
            None,
            &|_| Ok("filepw".into()),
        );
        assert_eq!(setting_named(both.unwrap_err()), "PEERPORTAL_SMTP_PASSWORD_FILE");
        let file = Config::from_sources(
            &env(&[("PEERPORTAL_SMTP_URL", "smtp://u@mail.ix.example"), from, ("PEERPORTAL_SMTP_PASSWORD_FILE", "/run/pw")]),
            None,
            &|_| Ok("filepw\n".into()),
        )
        .unwrap();
        assert_eq!(file.mail.unwrap().password.unwrap().expose_secret(), "filepw");
        assert_eq!(setting_named(parse(&[("PEERPORTAL_SUPPORT_EMAIL", "nobody")]).unwrap_err()), "PEERPORTAL_SUPPORT_EMAIL");
    }
}
