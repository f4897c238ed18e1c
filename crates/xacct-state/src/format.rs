//! The state file format: one reader per `format_version`, upgrades between them, one writer.
//!
//! Reading dispatches on `format_version`: each version has a frozen reader module (`v1`, …) that
//! parses exactly what that version wrote, then a chain of upgrade functions brings the result to
//! the current [`State`]. Adding v2 means: add `mod v2` with its reader, write `upgrade_v1` (v1 →
//! v2), make v2 the current model, bump [`FORMAT_VERSION`](crate::FORMAT_VERSION), and add
//! round-trip fixtures (`tests/fixtures/roundtrip/*.in.json` → `*.out.json`) for both.
//!
//! Writing always produces the current version: pretty-printed JSON, keys in a stable order
//! (fields in declaration order, resources by address, attribute objects by key), trailing newline.

use serde_json::{Map, Value};

use crate::{State, StateError, FORMAT_VERSION};

/// Parse state bytes of any supported format version into the current model.
///
/// Errors name `state` as the origin; use [`decode_from`] to name the file.
pub fn decode(bytes: &[u8]) -> Result<State, StateError> {
    decode_from("state", bytes)
}

/// Like [`decode`], naming `origin` (a path, an S3 URL) in errors.
pub fn decode_from(origin: &str, bytes: &[u8]) -> Result<State, StateError> {
    // First pass: is it JSON at all, and which version does it claim to be?
    let probe: Value = serde_json::from_slice(bytes).map_err(|e| corrupt(origin, &e))?;
    let Value::Object(top) = &probe else {
        return Err(StateError::Invalid {
            origin: origin.to_string(),
            reason: format!("expected a JSON object at the top level, found {}", kind_of(&probe)),
        });
    };
    let version = match top.get("format_version") {
        None => {
            return Err(StateError::Invalid {
                origin: origin.to_string(),
                reason: "missing `format_version`; this does not look like an xacct state file".into(),
            })
        }
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if v > 0 => v,
            _ => return Err(StateError::UnsupportedFormat { origin: origin.to_string(), found: n.to_string() }),
        },
        Some(other) => {
            return Err(StateError::UnsupportedFormat { origin: origin.to_string(), found: other.to_string() })
        }
    };
    if version > u64::from(FORMAT_VERSION) {
        return Err(StateError::NewerFormat {
            origin: origin.to_string(),
            found: version,
            supported: FORMAT_VERSION,
            written_by: top.get("xacct_version").and_then(Value::as_str).map(str::to_string),
        });
    }
    let state = match version {
        1 => v1::read(origin, bytes)?,
        // Future: `2 => v2::read(origin, bytes)?` and the v1 arm becomes
        // `1 => upgrade_v1(v1::read(origin, bytes)?)`.
        other => return Err(StateError::UnsupportedFormat { origin: origin.to_string(), found: other.to_string() }),
    };
    validate(origin, &state)?;
    Ok(state)
}

/// Serialize `state` in the current format (always [`FORMAT_VERSION`], whatever the field says).
pub fn encode(state: &State) -> Vec<u8> {
    let mut out = state.clone();
    out.format_version = FORMAT_VERSION;
    for resource in out.resources.values_mut() {
        sort_keys(&mut resource.attributes);
    }
    // A struct of strings, integers, string-keyed maps and JSON values cannot fail to serialize.
    let mut bytes = serde_json::to_vec_pretty(&out).expect("state always serializes to JSON");
    bytes.push(b'\n');
    bytes
}

/// Rules every decoded state obeys, whatever its version.
fn validate(origin: &str, state: &State) -> Result<(), StateError> {
    let invalid = |reason: String| StateError::Invalid { origin: origin.to_string(), reason };
    if state.lineage.trim().is_empty() {
        return Err(invalid("`lineage` is empty".into()));
    }
    for (address, resource) in &state.resources {
        if address.trim().is_empty() || address.trim() != address {
            return Err(invalid(format!("resource address `{address}` is empty or has surrounding spaces")));
        }
        if resource.kind.trim().is_empty() {
            return Err(invalid(format!("resource `{address}` has an empty `kind`")));
        }
    }
    Ok(())
}

fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut sorted = Map::with_capacity(entries.len());
            for (k, mut v) in entries {
                sort_keys(&mut v);
                sorted.insert(k, v);
            }
            *map = sorted;
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

fn corrupt(origin: &str, e: &serde_json::Error) -> StateError {
    let full = e.to_string();
    // serde_json appends " at line L column C"; we report those as fields.
    let reason = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    StateError::Corrupt { origin: origin.to_string(), line: e.line(), column: e.column(), reason }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "`null`",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Format version 1. Frozen: never change these types once a later version exists.
mod v1 {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use crate::{ResourceState, State, StateError};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct StateV1 {
        #[allow(dead_code)]
        format_version: u32,
        xacct_version: String,
        lineage: String,
        serial: u64,
        #[serde(default)]
        resources: BTreeMap<String, ResourceV1>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ResourceV1 {
        kind: String,
        #[serde(default)]
        attributes: serde_json::Value,
    }

    pub(super) fn read(origin: &str, bytes: &[u8]) -> Result<State, StateError> {
        let v1: StateV1 = serde_json::from_slice(bytes).map_err(|e| super::corrupt(origin, &e))?;
        Ok(State {
            format_version: 1,
            xacct_version: v1.xacct_version,
            lineage: v1.lineage,
            serial: v1.serial,
            resources: v1
                .resources
                .into_iter()
                .map(|(address, r)| (address, ResourceState { kind: r.kind, attributes: r.attributes }))
                .collect(),
        })
    }
}
