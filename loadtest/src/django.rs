//! A PeeringDB stand-in built on Django and django-oauth-toolkit, the
//! library PeeringDB's own OAuth server runs on (`loadtest/django/`), served
//! by Django's own server. Against it a browser signs in and consents on
//! real HTML forms with CSRF tokens, and the portal's token and profile
//! calls meet a Python HTTP server instead of the simulator's hyper.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;

use crate::flow::{profile, set_cookies, user_name};
use crate::portal::{free_port, CLIENT_ID, CLIENT_SECRET};

const MANAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/django/manage.py");

/// The version of `package` that `requirements.txt` pins.
pub fn pinned(package: &str) -> &'static str {
    include_str!("../django/requirements.txt")
        .lines()
        .find_map(|line| line.strip_prefix(package)?.strip_prefix("=="))
        .unwrap_or("(not pinned)")
}

/// Person `u`'s password at the stand-in.
fn password(u: usize) -> String {
    format!("password of {}", user_name(u))
}

pub struct Django {
    pub base: String,
    child: Child,
    /// A browser at the stand-in: no redirects followed, its own pool.
    http: reqwest::Client,
    /// The stand-in's database, people file and log.
    dir: tempfile::TempDir,
}

impl Drop for Django {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Django {
    /// Migrates a fresh database, loads the portal's client and `users`
    /// people (the simulator's profiles), and serves on a free loopback
    /// port; with `nodelay`, with TCP_NODELAY on its connections.
    pub async fn start(python: &Path, nodelay: bool, redirect_uri: &str, users: usize, networks: usize, customers: usize) -> anyhow::Result<Django> {
        let dir = tempfile::tempdir()?;
        let people: Vec<serde_json::Value> = (0..users)
            .map(|u| json!({ "username": user_name(u), "password": password(u), "profile": profile(u, networks, customers) }))
            .collect();
        let client = json!({ "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": redirect_uri });
        std::fs::write(dir.path().join("people.json"), serde_json::to_vec(&json!({ "client": client, "people": people }))?)?;
        let manage = |args: &[&str]| {
            let mut cmd = Command::new(python);
            cmd.arg(MANAGE).args(args).env("STANDIN_DB", dir.path().join("standin.sqlite3")).env("STANDIN_PEOPLE", dir.path().join("people.json"));
            cmd.env("STANDIN_NODELAY", if nodelay { "1" } else { "0" });
            cmd
        };
        for step in [&["migrate", "-v0"][..], &["standin_load"]] {
            let out = manage(step).output().with_context(|| format!("cannot run {} {MANAGE}", python.display()))?;
            if !out.status.success() {
                bail!("manage.py {}: {}", step[0], String::from_utf8_lossy(&out.stderr).trim());
            }
        }
        let port = free_port()?;
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let child = manage(&["runserver", &format!("127.0.0.1:{port}"), "--noreload", "--skip-checks"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start Django's runserver")?;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).tcp_nodelay(true).build()?;
        let django = Django { base: format!("http://127.0.0.1:{port}"), child, http, dir };
        for _ in 0..600 {
            let discovery = django.http.get(format!("{}/oauth2/.well-known/openid-configuration", django.base)).send().await;
            if discovery.is_ok_and(|r| r.status().is_success()) {
                return Ok(django);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(django.dir.path().join("server.log")).unwrap_or_default();
        bail!("the Django stand-in did not answer within 30 s:\n{log}")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// PeeringDB's part of a login as person `u`'s browser makes it, with
    /// a cookie jar of its own: the authorization page sends it to sign in;
    /// it signs in, is sent back, allows on the consent page, and is sent
    /// to the portal's callback, whose URL this returns.
    pub async fn consent(&self, authorize: &url::Url, u: usize) -> anyhow::Result<String> {
        let mut jar = Jar::default();
        let to_login = self.expect(self.http.get(authorize.as_str()), &mut jar, 302).await?;
        let login_url = authorize.join(&location(&to_login)?)?;
        let page = self.expect(self.http.get(login_url.as_str()), &mut jar, 200).await?;
        let mut form = hidden_inputs(&page.text().await?);
        form.extend([("username".into(), user_name(u)), ("password".into(), password(u))]);
        let signed_in = self.expect(self.http.post(login_url.as_str()).form(&form), &mut jar, 302).await?;
        let back = authorize.join(&location(&signed_in)?)?;
        let consent = self.expect(self.http.get(back.as_str()), &mut jar, 200).await?;
        let mut form = hidden_inputs(&consent.text().await?);
        form.push(("allow".into(), "Authorize".into()));
        let allowed = self.expect(self.http.post(back.as_str()).form(&form), &mut jar, 302).await?;
        location(&allowed)
    }

    /// Sends with the jar's cookies, keeps what the answer sets, and
    /// insists on `status`.
    async fn expect(&self, req: reqwest::RequestBuilder, jar: &mut Jar, status: u16) -> anyhow::Result<reqwest::Response> {
        let r = req.header(COOKIE, jar.header()).send().await?;
        jar.keep(&set_cookies(r.headers()));
        if r.status() != status {
            let url = r.url().clone();
            bail!("the Django stand-in answered {} to {url} (expected {status})", r.status());
        }
        Ok(r)
    }
}

fn location(r: &reqwest::Response) -> anyhow::Result<String> {
    Ok(r.headers().get(LOCATION).context("a redirect without Location")?.to_str()?.to_string())
}

/// One browser's cookies for one site, as `Set-Cookie` left them.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, set: &[String]) {
        for pair in set {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            self.0.retain(|(n, _)| n != name);
            self.0.push((name.to_string(), value.to_string()));
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// The hidden inputs of a page's form (name, value), with the escapes of
/// Django's templates undone. The two pages are Django's own markup, so
/// attributes are double-quoted; an HTML parser would add html5ever to the
/// workspace's build for these two forms.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            (attribute(tag, "type")? == "hidden").then_some(())?;
            Some((attribute(tag, "name")?, attribute(tag, "value").unwrap_or_default()))
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let at = tag.match_indices(&format!(" {name}=\"")).next()?.0 + name.len() + 3;
    let value = &tag[at..at + tag[at..].find('"')?];
    Some(value.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#x27;", "'").replace("&amp;", "&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_form_hidden_fields_come_back_unescaped() {
        let page = r#"<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="t0k">
            <input type="hidden" name="redirect_uri" value="http://127.0.0.1:9/cb?a=1&amp;b=&quot;2&quot;" id="id_redirect_uri">
            <input type="hidden" name="resource" id="id_resource">
            <input name="username" autocomplete="username" required>
            <input type="submit" name="allow" value="Authorize"/></form>"#;
        assert_eq!(
            hidden_inputs(page),
            vec![
                ("csrfmiddlewaretoken".to_string(), "t0k".to_string()),
                ("redirect_uri".into(), "http://127.0.0.1:9/cb?a=1&b=\"2\"".into()),
                ("resource".into(), String::new()),
            ]
        );
    }

    #[test]
    fn the_versions_measured_are_the_pinned_ones() {
        assert!(pinned("Django").starts_with("5."), "{}", pinned("Django"));
        assert!(pinned("django-oauth-toolkit").starts_with("3."));
        assert_eq!(pinned("flask"), "(not pinned)");
    }

    #[test]
    fn a_cookie_set_again_replaces_the_old_value() {
        let mut jar = Jar::default();
        jar.keep(&["csrftoken=a".into(), "sessionid=s".into()]);
        jar.keep(&["csrftoken=b".into()]);
        assert_eq!(jar.header(), "sessionid=s; csrftoken=b");
    }
}
