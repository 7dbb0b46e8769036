//! Double opt-in (issue 7): the consent wording with its version, and consent links.
//!
//! Owns: what a valid wording (shop name, text, privacy notice address) is, the records of
//! a wording version and of a link, and the state a link is in at a given time.
//! Must never: hold a link's secret (only `ConsentLinkToken` does, and it is shown once).

use super::{ContactId, ParseError, Timestamp, TokenPrefix};

/// How a consent confirmed through a link is recorded (`Consent::channel`).
pub const LINK_CHANNEL: &str = "double opt-in link";
/// Who recorded a consent confirmed through a link (`Consent::recorded_by`).
pub const LINK_RECORDER: &str = "the contact";

/// A consent wording as an admin typed it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordingDraft {
    /// The shop's name, shown on the public page as who asks.
    pub shop_name: String,
    /// The exact text the person agrees to.
    pub wording: String,
    /// The privacy notice; `None`: the controller's built-in notice.
    pub privacy_url: Option<String>,
}

impl WordingDraft {
    /// Checks the three fields; the error names the first bad one.
    pub fn parse(shop_name: &str, wording: &str, privacy_url: &str) -> Result<Self, ParseError> {
        let shop = shop_name.trim();
        if shop.is_empty() || shop.chars().count() > 200 || shop.chars().any(char::is_control) {
            return Err(ParseError::new(
                "shop name",
                "must be 1 to 200 characters without line breaks",
            ));
        }
        let text = wording.trim().replace("\r\n", "\n");
        if text.is_empty() || text.chars().count() > 4000 {
            return Err(ParseError::new(
                "consent wording",
                "must be the exact text shown, 1 to 4000 characters",
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ParseError::new(
                "consent wording",
                "must not contain control characters other than line breaks",
            ));
        }
        let url = privacy_url.trim();
        let privacy_url = if url.is_empty() {
            None
        } else if url.len() <= 500
            && url.starts_with("https://")
            && !url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"')
        {
            Some(url.to_owned())
        } else {
            return Err(ParseError::new(
                "privacy notice address",
                "must be empty (the built-in notice) or an https:// address of at most 500 characters",
            ));
        };
        Ok(WordingDraft {
            shop_name: shop.to_owned(),
            wording: text,
            privacy_url,
        })
    }
}

/// One stored version of the wording; never changed once stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentWording {
    /// 1, 2, … in the order they were saved.
    pub version: u64,
    pub shop_name: String,
    pub wording: String,
    pub privacy_url: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
}

impl ConsentWording {
    /// How a consent names this version (`Consent::wording_version`).
    pub fn version_label(&self) -> String {
        format!("v{}", self.version)
    }
}

/// A consent link as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentLink {
    pub prefix: TokenPrefix,
    pub contact: ContactId,
    pub wording_version: u64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub created_by: String,
    pub confirmed_at: Option<Timestamp>,
}

/// What a link can still be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not confirmed yet, not expired: the person may confirm.
    Open,
    /// Confirmed: the person may withdraw (a withdrawal must stay as easy as giving
    /// consent, Art. 7(3), so a confirmed link does not expire).
    Confirmed,
    /// Never confirmed and past its expiry.
    Expired,
}

impl ConsentLink {
    /// The link's state at `now`.
    pub fn state(&self, now: Timestamp) -> LinkState {
        match self.confirmed_at {
            Some(_) => LinkState::Confirmed,
            None if self.expires_at > now => LinkState::Open,
            None => LinkState::Expired,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_wording_needs_a_shop_a_text_and_at_most_an_https_notice() {
        let ok = WordingDraft::parse(" Butcher Berg ", "I agree.\r\nReally.", "").unwrap();
        assert_eq!(ok.shop_name, "Butcher Berg");
        assert_eq!(ok.wording, "I agree.\nReally.");
        assert_eq!(ok.privacy_url, None);
        let url = WordingDraft::parse("B", "W", "https://example.org/privacy").unwrap();
        assert_eq!(
            url.privacy_url.as_deref(),
            Some("https://example.org/privacy")
        );
        for (shop, text, url, what) in [
            ("", "W", "", "shop name"),
            ("A\nB", "W", "", "shop name"),
            ("B", " ", "", "consent wording"),
            ("B", "a\u{7}b", "", "consent wording"),
            ("B", "W", "http://example.org", "privacy notice address"),
            ("B", "W", "javascript:alert(1)", "privacy notice address"),
            ("B", "W", "https://a b", "privacy notice address"),
        ] {
            assert_eq!(WordingDraft::parse(shop, text, url).unwrap_err().what, what);
        }
    }

    #[test]
    fn a_link_is_open_until_it_expires_and_stays_usable_for_withdrawal() {
        let link = ConsentLink {
            prefix: TokenPrefix::parse("0123456789ab").unwrap(),
            contact: ContactId::generate(),
            wording_version: 1,
            created_at: Timestamp::from_unix_millis(0),
            expires_at: Timestamp::from_unix_millis(1000),
            created_by: "user:admin".into(),
            confirmed_at: None,
        };
        assert_eq!(
            link.state(Timestamp::from_unix_millis(999)),
            LinkState::Open
        );
        assert_eq!(
            link.state(Timestamp::from_unix_millis(1000)),
            LinkState::Expired
        );
        let confirmed = ConsentLink {
            confirmed_at: Some(Timestamp::from_unix_millis(10)),
            ..link
        };
        assert_eq!(
            confirmed.state(Timestamp::from_unix_millis(5000)),
            LinkState::Confirmed
        );
    }
}
