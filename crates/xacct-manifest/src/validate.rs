//! Checks on the desired identity that the CRD or STS would otherwise reject later.

use crate::error::ManifestError;
use crate::model::{AllowedNamespaces, IdentitySpec};

fn invalid(message: String) -> Result<(), ManifestError> {
    Err(ManifestError::InvalidSpec(message))
}

/// A Kubernetes DNS subdomain name.
fn is_dns_subdomain(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (1..=253).contains(&s.len()) && s.chars().all(ok_char) && alnum(s.chars().next()) && alnum(s.chars().last())
}

pub(crate) fn validate(spec: &IdentitySpec) -> Result<(), ManifestError> {
    if !is_dns_subdomain(&spec.name) {
        return invalid(format!(
            "name `{}` is not a valid Kubernetes object name (lowercase letters, digits, `-` and `.`)",
            spec.name
        ));
    }
    if !spec.role_arn.starts_with("arn:") || !spec.role_arn.contains(":role/") {
        return invalid(format!("`{}` is not a role ARN", spec.role_arn));
    }
    if let Some(d) = spec.duration_seconds {
        if !(900..=43200).contains(&d) {
            return invalid(format!("duration_seconds `{d}` is outside 900..=43200 (the CRD's range)"));
        }
    }
    if let Some(s) = &spec.session_name {
        let ok = (2..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if !ok {
            return invalid(format!("session_name `{s}` must be 2 to 64 characters of letters, digits and `_+=,.@-`"));
        }
    }
    if let Some(e) = &spec.external_id {
        let ok =
            (2..=1224).contains(&e.len()) && e.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
        if !ok {
            return invalid(format!(
                "external_id `{e}` must be 2 to 1224 characters of letters, digits and `_+=,.@:/-`"
            ));
        }
    }
    match &spec.allowed_namespaces {
        AllowedNamespaces::Selector(labels) if labels.is_empty() => {
            invalid("an empty namespace selector is ambiguous in CAPA; use `all` or a list".to_string())
        }
        AllowedNamespaces::List(list) => match list.iter().find(|n| !is_dns_subdomain(n)) {
            Some(n) => invalid(format!("`{n}` is not a valid namespace name")),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}
