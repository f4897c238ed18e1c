//! Decoding documents as IAM returns them (URL-encoded, RFC 3986).

use crate::error::{PolicyError, Result};

/// Decode a policy document as returned by `GetRole`, `GetRolePolicy` or
/// `GetAccountAuthorizationDetails`.
///
/// IAM percent-encodes documents; some emulators return raw JSON. Text that already
/// looks like JSON (first non-whitespace character `{` or `[`) or contains no `%`
/// is returned unchanged. Otherwise every `%XX` escape is decoded; a malformed escape
/// or a result that is not UTF-8 is an error. `+` is left alone (RFC 3986 does not
/// use it for spaces).
pub fn decode_document(text: &str) -> Result<String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') || !text.contains('%') {
        return Ok(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit();
            if !ok {
                let end = (i + 3).min(text.len());
                let snippet = String::from_utf8_lossy(&bytes[i..end]);
                return Err(PolicyError::Decode(format!("malformed escape `{snippet}` at byte {i}")));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|e| PolicyError::Decode(format!("decoded bytes are not UTF-8: {e}")))
}

/// Whether `text` is percent-encoded rather than raw JSON (the test
/// [`decode_document`] uses).
pub fn is_percent_encoded(text: &str) -> bool {
    let trimmed = text.trim_start();
    !(trimmed.starts_with('{') || trimmed.starts_with('[')) && text.contains('%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_iam_encoded_document() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(decode_document(enc).unwrap(), r#"{"Version":"2012-10-17","Statement":[]}"#);
        assert!(is_percent_encoded(enc));
    }

    #[test]
    fn raw_json_passes_through_even_with_percent() {
        let raw = "  {\"Sid\": \"100%25\"}";
        assert_eq!(decode_document(raw).unwrap(), raw);
        assert!(!is_percent_encoded(raw));
    }

    #[test]
    fn text_without_percent_passes_through() {
        assert_eq!(decode_document("not json").unwrap(), "not json");
    }

    #[test]
    fn malformed_escape_is_an_error() {
        let err = decode_document("%7B%2").unwrap_err();
        assert!(matches!(err, PolicyError::Decode(_)), "{err}");
        let err = decode_document("%7B%G1").unwrap_err();
        assert!(err.to_string().contains("%G1"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert!(decode_document("%7B%FF%7D").is_err());
    }

    #[test]
    fn decodes_multibyte_utf8() {
        assert_eq!(decode_document("%7B%22a%22%3A%22%C3%A9%22%7D").unwrap(), "{\"a\":\"é\"}");
    }
}
