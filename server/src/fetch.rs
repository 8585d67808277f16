//! What every outgoing HTTP fetch shares: a ceiling on the body, so a
//! server that sends without end is cut off instead of filling memory,
//! and a way to name a URL in a message without what may be its secret.

/// Why a capped body could not be read.
#[derive(Debug)]
pub enum CappedError {
    /// Longer than the cap, declared or as sent.
    TooLarge,
    Read(reqwest::Error),
}

/// Reads a whole body, refusing more than `max` bytes.
pub async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, CappedError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(CappedError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(CappedError::Read)? {
        if body.len() + chunk.len() > max {
            return Err(CappedError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `text` as a URL the portal fetches from (http or https), or `None`:
/// anything else, a path or `file://` say, is not fetched.
pub fn http_url(text: &str) -> Option<url::Url> {
    url::Url::parse(text).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// A URL as messages, logs and audit rows may show it: without its user,
/// password, query and fragment. Member exports are often published
/// behind an API key in the query (IXP Manager's `?apikey=`), and that key
/// is a secret like any other.
pub fn shown(url: &url::Url) -> String {
    let mut url = url.clone();
    // Only URLs that cannot have a user (`mailto:`, `data:`) refuse these.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let hidden = url.query().is_some();
    url.set_query(None);
    url.set_fragment(None);
    if hidden {
        format!("{url}?…")
    } else {
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn a_shown_url_keeps_no_credential_and_no_query() {
        let url = url::Url::parse("https://ops:hunter2@ixp.example.net/api/v4/member-export/ixf/1.0?apikey=s3cret#x").unwrap();
        assert_eq!(shown(&url), "https://ixp.example.net/api/v4/member-export/ixf/1.0?…");
        let plain = url::Url::parse("https://ixp.example.net/ixf.json").unwrap();
        assert_eq!(shown(&plain), "https://ixp.example.net/ixf.json");
    }
}
