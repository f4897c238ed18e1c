//! Documents as IAM returns them: when text is decoded, and what a malformed escape reports.

use xacct_policy::{decode_document, is_percent_encoded, PolicyError};

#[test]
fn raw_json_is_never_decoded() {
    for raw in ["[\"100%25\"]", "  [\"%7B\"]", "{\"Sid\":\"%41\"}", "\n\t{\"a\":\"%\"}"] {
        assert_eq!(decode_document(raw).unwrap(), raw, "{raw:?}");
        assert!(!is_percent_encoded(raw), "{raw:?}");
    }
}

#[test]
fn encoded_text_is_decoded_whatever_it_starts_with() {
    assert_eq!(decode_document("%5B%22a%22%5D").unwrap(), "[\"a\"]");
    assert_eq!(decode_document("  %7B%7D").unwrap(), "  {}");
    assert!(is_percent_encoded("%5B%5D"));
    assert!(!is_percent_encoded("no escapes here"));
}

#[test]
fn malformed_escape_names_the_escape_and_its_byte() {
    let msg = |text: &str| match decode_document(text).unwrap_err() {
        PolicyError::Decode(m) => m,
        other => panic!("not a decode error: {other:?}"),
    };
    assert_eq!(msg("%G1abc"), "malformed escape `%G1` at byte 0");
    assert_eq!(msg("%7B%G1xyz"), "malformed escape `%G1` at byte 3");
    assert_eq!(msg("%7B%2"), "malformed escape `%2` at byte 3");
    assert_eq!(msg("%7B%"), "malformed escape `%` at byte 3");
    assert_eq!(msg("%7BA%2G"), "malformed escape `%2G` at byte 4");
}
