//! What each mail says: pure functions from facts to a subject and two
//! bodies, plain text and HTML, built from one list of blocks so the two
//! never say different things. No mail carries a secret or token except
//! the single-use link it exists for.

use domain::mail::MailKind;
use domain::Role;
use url::Url;

use crate::store::outbox::NewMail;

/// Who the mails come from, and where people go.
pub struct Site<'a> {
    pub public_url: &'a Url,
    /// The sender's name (`PEERPORTAL_MAIL_FROM`'s), signing every mail.
    pub signature: &'a str,
    /// `PEERPORTAL_SUPPORT_EMAIL`, named at the end of every mail.
    pub support: Option<&'a str>,
}

impl Site<'_> {
    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

/// What a login or re-sync did to a person's access.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessChanges {
    pub added: Vec<(String, Role)>,
    pub changed: Vec<(String, Role, Role)>,
    pub removed: Vec<String>,
    /// Customers where the role stayed below what PeeringDB says, for want
    /// of a second factor at PeeringDB.
    pub lowered: Vec<String>,
}

impl AccessChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        lines.extend(self.added.iter().map(|(c, r)| format!("Added: {c}, as {r}")));
        lines.extend(self.changed.iter().map(|(c, from, to)| format!("Changed: {c}, from {from} to {to}")));
        lines.extend(self.removed.iter().map(|c| format!("Removed: {c}")));
        lines
    }
}

enum Block {
    Para(String),
    List(Vec<String>),
    /// A link on its own line: the text body shows the URL alone.
    Link {
        label: String,
        url: String,
    },
}

fn compose(site: &Site<'_>, kind: MailKind, to: &str, user_id: Option<i64>, subject: String, mut blocks: Vec<Block>) -> NewMail {
    if let Some(support) = site.support {
        blocks.push(Block::Para(format!("Questions? Write to {support}.")));
    }
    let mut text = String::new();
    let mut html = String::from("<!DOCTYPE html><html><body style=\"font-family: sans-serif; line-height: 1.5\">");
    for block in &blocks {
        match block {
            Block::Para(p) => {
                text.push_str(p);
                text.push_str("\n\n");
                html.push_str(&format!("<p>{}</p>", esc(p)));
            }
            Block::List(items) => {
                html.push_str("<ul>");
                for item in items {
                    text.push_str(&format!("  - {item}\n"));
                    html.push_str(&format!("<li>{}</li>", esc(item)));
                }
                text.push('\n');
                html.push_str("</ul>");
            }
            Block::Link { label, url } => {
                text.push_str(&format!("{url}\n\n"));
                html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", html_escape::encode_double_quoted_attribute(url), esc(label)));
            }
        }
    }
    text.push_str(&format!("-- \n{}\n", site.signature));
    html.push_str(&format!("<p>— {}</p></body></html>", esc(site.signature)));
    NewMail { kind, to: to.to_string(), subject, text, html, user_id }
}

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(s)
}

/// A person's first login with PeeringDB made their account.
pub fn welcome(site: &Site<'_>, user_id: i64, to: &str, name: &str, username: &str, access: &AccessChanges) -> NewMail {
    let mut blocks = vec![
        Block::Para(format!("Hello {name},")),
        Block::Para(format!("your login with PeeringDB has made you an account at {} (username {username}).", site.signature)),
    ];
    if !access.added.is_empty() {
        blocks.push(Block::Para("You have access to:".into()));
        blocks.push(Block::List(access.added.iter().map(|(c, r)| format!("{c}, as {r}")).collect()));
    }
    if !access.lowered.is_empty() {
        blocks.push(Block::Para(format!(
            "At {} you have member rights only: admin rights need a PeeringDB login with a second factor.",
            access.lowered.join(", ")
        )));
    }
    blocks.push(Block::Para(
        "Your access follows PeeringDB: it changes when your networks or permissions there change, and this portal tells you by mail when it does."
            .into(),
    ));
    blocks.push(Block::Link { label: "Open the portal".into(), url: site.link("/") });
    compose(site, MailKind::Welcome, to, Some(user_id), format!("Welcome to {}", site.signature), blocks)
}

/// Access added, changed or removed by a login or a re-sync: one mail
/// listing every change. `None` when nothing changed.
pub fn access_changed(site: &Site<'_>, user_id: i64, to: &str, name: &str, changes: &AccessChanges, by_resync: bool) -> Option<NewMail> {
    if changes.is_empty() {
        return None;
    }
    let why = if by_resync {
        "The portal checked your networks at PeeringDB and changed your access:"
    } else {
        "At your login with PeeringDB, your access changed:"
    };
    let mut blocks = vec![Block::Para(format!("Hello {name},")), Block::Para(why.into()), Block::List(changes.lines())];
    if !changes.removed.is_empty() {
        blocks.push(Block::Para(
            "Access is removed when PeeringDB no longer lists you in a network that is a member here, or no longer vouches for your permissions. \
             If that is wrong, ask your organisation's administrator at PeeringDB to add you to the network again."
                .into(),
        ));
    }
    blocks.push(Block::Link { label: "Open the portal".into(), url: site.link("/") });
    Some(compose(site, MailKind::AccessChanged, to, Some(user_id), "Your access has changed".into(), blocks))
}

/// A link to set a new password.
pub fn password_reset(site: &Site<'_>, user_id: i64, to: &str, name: &str, username: &str, token: &str) -> NewMail {
    let minutes = domain::mail::RESET_LIFETIME.as_secs() / 60;
    let blocks = vec![
        Block::Para(format!("Hello {name},")),
        Block::Para(format!("someone (we hope you) asked to reset the password of the account {username}. The link below sets a new one; it works once, for {minutes} minutes, and ends every session of the account.")),
        Block::Link { label: "Set a new password".into(), url: site.link(&format!("/reset/{token}")) },
        Block::Para("If you did not ask for this, ignore this mail: your password stays as it is.".into()),
    ];
    compose(site, MailKind::PasswordReset, to, Some(user_id), "Reset your password".into(), blocks)
}

/// A reset was asked for an account that logs in with PeeringDB only.
pub fn no_password(site: &Site<'_>, user_id: i64, to: &str, name: &str, username: &str) -> NewMail {
    let blocks = vec![
        Block::Para(format!("Hello {name},")),
        Block::Para(format!("someone asked to reset the password of the account {username}. It has no password: it logs in with PeeringDB. Use \"Login with PeeringDB\" on the login page; if you lost access to PeeringDB, PeeringDB's own password reset helps.")),
        Block::Link { label: "Log in".into(), url: site.link("/login") },
    ];
    compose(site, MailKind::NoPassword, to, Some(user_id), "Your account logs in with PeeringDB".into(), blocks)
}

/// An invitation to a customer.
pub fn invitation(site: &Site<'_>, to: &str, inviter: &str, customer: &str, role: Role, token: &str, peeringdb_login: bool) -> NewMail {
    let days = domain::mail::INVITATION_LIFETIME.as_secs() / 86_400;
    let how = if peeringdb_login {
        "Accept by setting a password for a new account, or by logging in with PeeringDB."
    } else {
        "Accept by setting a password for a new account, or by logging in to the account you have."
    };
    let blocks = vec![
        Block::Para("Hello,".into()),
        Block::Para(format!("{inviter} invites you to {customer} at {}, as {role}. {how}", site.signature)),
        Block::Link { label: "Accept the invitation".into(), url: site.link(&format!("/invitation/{token}")) },
        Block::Para(format!("The link works once, for {days} days, for this address ({to}).")),
    ];
    compose(site, MailKind::Invitation, to, None, format!("Invitation to {customer}"), blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(url: &Url) -> Site<'_> {
        Site { public_url: url, signature: "Example IX", support: Some("noc@example.net") }
    }

    #[test]
    fn the_text_and_html_bodies_say_the_same_and_quote_safely() {
        let url = Url::parse("https://portal.example.net").unwrap();
        let changes = AccessChanges { added: vec![("<Alpha> & Co".into(), Role::Admin)], removed: vec!["Beta".into()], ..Default::default() };
        let mail = access_changed(&site(&url), 7, "ann@example.net", "Ann", &changes, true).unwrap();
        assert!(mail.text.contains("  - Added: <Alpha> & Co, as admin\n  - Removed: Beta\n"), "{}", mail.text);
        assert!(mail.html.contains("<li>Added: &lt;Alpha&gt; &amp; Co, as admin</li>"), "{}", mail.html);
        assert!(mail.text.contains("Questions? Write to noc@example.net."));
        assert!(mail.text.contains("https://portal.example.net/\n"));
        assert_eq!((mail.kind, mail.user_id, mail.to.as_str()), (MailKind::AccessChanged, Some(7), "ann@example.net"));
    }

    #[test]
    fn nothing_changed_means_no_mail() {
        let url = Url::parse("https://portal.example.net").unwrap();
        let only_notes = AccessChanges { lowered: vec!["Alpha".into()], ..Default::default() };
        assert_eq!(access_changed(&site(&url), 7, "a@example.net", "Ann", &only_notes, false), None);
    }

    #[test]
    fn a_reset_mail_carries_its_link_and_nothing_else_secret() {
        let url = Url::parse("https://portal.example.net/ix").unwrap();
        let mail = password_reset(&site(&url), 3, "a@example.net", "Ann", "ann", "TOKEN123");
        assert!(mail.text.contains("https://portal.example.net/ix/reset/TOKEN123\n"));
        assert!(mail.html.contains("href=\"https://portal.example.net/ix/reset/TOKEN123\""));
        assert!(mail.text.contains("30 minutes"));
    }
}
