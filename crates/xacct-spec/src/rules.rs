//! The naming rules real IAM, STS and Kubernetes enforce (REFERENCE.md §2–3). The emulator
//! enforces almost none of them, so xacct checks them before anything is written.

fn charset(s: &str, extra: &str) -> Result<(), String> {
    match s.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || extra.contains(*c))) {
        Some(c) => Err(format!("`{c}` is not allowed")),
        None => Ok(()),
    }
}

fn length(s: &str, min: usize, max: usize) -> Result<(), String> {
    let n = s.chars().count();
    if n < min || n > max {
        Err(format!("{n} character{}, expected {min}–{max}", if n == 1 { "" } else { "s" }))
    } else {
        Ok(())
    }
}

/// Exactly 12 digits.
pub fn account_id(s: &str) -> Result<(), String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else if s.bytes().all(|b| b.is_ascii_digit()) {
        Err(format!("{} digits", s.len()))
    } else {
        Err("not all digits".to_string())
    }
}

/// IAM role name: 1–64 of `[\w+=,.@-]`.
pub fn role_name(s: &str) -> Result<(), String> {
    length(s, 1, 64)?;
    charset(s, "+=,.@-")
}

/// IAM path: starts and ends with `/`, at most 512 characters, printable ASCII.
pub fn role_path(s: &str) -> Result<(), String> {
    length(s, 1, 512)?;
    if !s.starts_with('/') || !s.ends_with('/') {
        return Err("must start and end with `/`".to_string());
    }
    match s.chars().find(|c| !('!'..='~').contains(c)) {
        Some(c) => Err(format!("`{c}` is not allowed")),
        None => Ok(()),
    }
}

/// An inline policy name: 1–128 of `[\w+=,.@-]`.
pub fn policy_name(s: &str) -> Result<(), String> {
    length(s, 1, 128)?;
    charset(s, "+=,.@-")
}

/// STS ExternalId: 2–1,224 of `[\w+=,.@:/-]`.
pub fn external_id(s: &str) -> Result<(), String> {
    length(s, 2, 1224)?;
    charset(s, "+=,.@:/-")
}

/// STS RoleSessionName: 2–64 of `[\w+=,.@-]`.
pub fn session_name(s: &str) -> Result<(), String> {
    length(s, 2, 64)?;
    charset(s, "+=,.@-")
}

/// `arn:<partition>:iam::<12 digits>:role/<path><name>`.
pub fn role_arn(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "iam" || !parts[3].is_empty() {
        return Err("not an IAM role ARN".to_string());
    }
    if !crate::keys::PARTITIONS.contains(&parts[1]) {
        return Err(format!("unknown partition `{}`", parts[1]));
    }
    account_id(parts[4]).map_err(|e| format!("account: {e}"))?;
    let Some(rest) = parts[5].strip_prefix("role/") else {
        return Err("the resource must start with `role/`".to_string());
    };
    let name = rest.rsplit('/').next().unwrap_or(rest);
    role_name(name)
}

/// A workload name, used in addresses: a DNS label.
pub fn workload_name(s: &str) -> Result<(), String> {
    length(s, 1, 63)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".to_string());
    }
    if s.ends_with('-') {
        return Err("must not end with `-`".to_string());
    }
    match s.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        Some(c) => Err(format!("`{c}` is not allowed")),
        None => Ok(()),
    }
}

/// A Kubernetes namespace: a DNS-1123 label.
pub fn namespace(s: &str) -> Result<(), String> {
    length(s, 1, 63)?;
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".to_string());
    }
    match s.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        Some(c) => Err(format!("`{c}` is not allowed")),
        None => Ok(()),
    }
}

/// A Kubernetes object name: a DNS-1123 subdomain.
pub fn k8s_name(s: &str) -> Result<(), String> {
    length(s, 1, 253)?;
    for label in s.split('.') {
        namespace(label)?;
    }
    Ok(())
}

/// An AWS Organizations ID: `o-` and 10–32 lowercase letters or digits.
pub fn org_id(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix("o-") else { return Err("must start with `o-`".to_string()) };
    length(rest, 10, 32)?;
    match rest.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit())) {
        Some(c) => Err(format!("`{c}` is not allowed")),
        None => Ok(()),
    }
}

/// An organization path such as `o-abcdefghij/r-ab12/ou-ab12-cdefghij/`.
pub fn org_path(s: &str) -> Result<(), String> {
    let first = s.split('/').next().unwrap_or_default();
    org_id(first)?;
    if !s.ends_with('/') {
        return Err("must end with `/`".to_string());
    }
    Ok(())
}

fn lower_alnum(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// An OU ID (`ou-` + 4–32 + `-` + 8–32 lowercase letters or digits, as `ou-ab12-11111111`) or a
/// root ID (`r-` + 4–32, as `r-ab12`): the patterns AWS Organizations documents for them
/// ([`crate::keys::OU_OR_ROOT_PATTERN`]).
pub fn ou_or_root_id(s: &str) -> Result<(), String> {
    if let Some(rest) = s.strip_prefix("ou-") {
        return match rest.split_once('-') {
            Some((root, ou)) if lower_alnum(root, 4, 32) && lower_alnum(ou, 8, 32) => Ok(()),
            _ => Err(
                "after `ou-`, expected 4–32 lowercase letters or digits, `-`, then 8–32 lowercase letters or digits"
                    .to_string(),
            ),
        };
    }
    if let Some(rest) = s.strip_prefix("r-") {
        return if lower_alnum(rest, 4, 32) {
            Ok(())
        } else {
            Err("after `r-`, expected 4–32 lowercase letters or digits".to_string())
        };
    }
    if s.starts_with("o-") {
        return Err("that is an organization ID; select the whole organization by its root ID (`r-…`)".to_string());
    }
    if account_id(s).is_ok() {
        return Err("that is an account ID; list single accounts under `workloads`".to_string());
    }
    Err("must start with `ou-` (an OU) or `r-` (a root)".to_string())
}

/// An AWS Organizations tag key: 1–128 characters.
pub fn tag_key(s: &str) -> Result<(), String> {
    length(s, 1, 128)
}

/// An AWS Organizations tag value: 0–256 characters.
pub fn tag_value(s: &str) -> Result<(), String> {
    length(s, 0, 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!(account_id("012345678901").is_ok());
        assert!(account_id("12345678901").is_err());
        assert!(account_id("1234567890123").is_err());
        assert!(account_id("12345678901a").is_err());
    }

    #[test]
    fn names() {
        assert!(role_name("control-plane.cluster-api-provider-aws.sigs.k8s.io").is_ok());
        assert!(role_name(&"a".repeat(65)).is_err());
        assert!(role_name("bad name").is_err());
        assert!(role_path("/capa/").is_ok());
        assert!(role_path("capa/").is_err());
        assert!(external_id("a").is_err());
        assert!(external_id("abc:/def").is_ok());
        assert!(session_name("capa dev").is_err());
        assert!(session_name("capa-dev").is_ok());
        assert!(role_arn("arn:aws:iam::123456789012:role/path/Name").is_ok());
        assert!(role_arn("arn:aws:iam::1234:role/Name").is_err());
        assert!(role_arn("arn:aws:s3:::bucket").is_err());
        assert!(workload_name("dev-1").is_ok());
        assert!(workload_name("Dev").is_err());
        assert!(k8s_name("dev-account-role").is_ok());
        assert!(k8s_name("Dev_Role").is_err());
        assert!(org_id("o-abcdefghij").is_ok());
        assert!(org_id("o-ABC").is_err());
    }

    #[test]
    fn a_role_arn_may_be_in_any_partition_the_file_accepts() {
        for p in crate::keys::PARTITIONS {
            assert!(role_arn(&format!("arn:{p}:iam::123456789012:role/Name")).is_ok(), "{p}");
        }
        assert_eq!(role_arn("arn:aws-moon:iam::123456789012:role/Name"), Err("unknown partition `aws-moon`".into()));
    }

    #[test]
    fn ou_and_root_ids() {
        for ok in ["ou-ab12-11111111", "r-ab12", "ou-0a1b-abcdefgh12345678", &format!("r-{}", "a".repeat(32))] {
            assert_eq!(ou_or_root_id(ok), Ok(()), "{ok}");
        }
        let ou = "after `ou-`, expected 4–32 lowercase letters or digits, `-`, then 8–32 lowercase letters or digits";
        for bad in ["ou-ab1-11111111", "ou-ab12-1111111", "ou-AB12-11111111", "ou-ab12", "ou-ab12-1111-1111", "ou-"] {
            assert_eq!(ou_or_root_id(bad), Err(ou.to_string()), "{bad}");
        }
        assert_eq!(ou_or_root_id("r-ab1"), Err("after `r-`, expected 4–32 lowercase letters or digits".into()));
        assert!(ou_or_root_id("o-abcdefghij").unwrap_err().contains("organization ID"));
        assert!(ou_or_root_id("444444444444").unwrap_err().contains("account ID"));
        assert_eq!(ou_or_root_id("dev"), Err("must start with `ou-` (an OU) or `r-` (a root)".into()));
    }

    #[test]
    fn tag_lengths() {
        assert!(tag_key("").is_err());
        assert!(tag_key(&"k".repeat(128)).is_ok());
        assert!(tag_key(&"k".repeat(129)).is_err());
        assert!(tag_value("").is_ok());
        assert!(tag_value(&"v".repeat(257)).is_err());
    }
}
