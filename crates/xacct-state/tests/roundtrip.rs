//! Round-trip fixtures: every `tests/fixtures/roundtrip/NAME.in.json` decodes, and encodes to
//! exactly `NAME.out.json`, which itself is a fixed point.

use std::fs;
use std::path::PathBuf;

use xacct_state::{decode, encode, FORMAT_VERSION};

fn fixtures() -> Vec<(String, PathBuf, PathBuf)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roundtrip");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".in.json") {
            out.push((stem.to_string(), path.clone(), dir.join(format!("{stem}.out.json"))));
        }
    }
    out.sort();
    out
}

#[test]
fn roundtrip_fixtures() {
    let cases = fixtures();
    assert!(cases.len() >= 4, "expected round-trip fixtures, found {}", cases.len());
    for (name, input, output) in cases {
        let bytes = fs::read(&input).unwrap();
        let state = decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(state.format_version, FORMAT_VERSION, "{name}");
        let encoded = encode(&state);
        let want = fs::read(&output).unwrap_or_else(|e| panic!("{name}: missing {}: {e}", output.display()));
        assert_eq!(
            String::from_utf8_lossy(&encoded),
            String::from_utf8_lossy(&want),
            "{name}: encoding differs from {}",
            output.display()
        );
        // The output is a fixed point.
        let again = decode(&want).unwrap_or_else(|e| panic!("{name} (out): {e}"));
        assert_eq!(again, state, "{name}");
        assert_eq!(encode(&again), want, "{name}: out is not a fixed point");
    }
}
