//! JSON text written straight into a buffer, without `serde`'s machinery or a tree: the lines
//! the host writes on every tick (bridge commands, match logs) are short and all alike, and
//! for them `serde_json`'s derived serialisers cost several times a direct write. The output is
//! byte for byte what `serde_json` writes for the same value (tests pin it).

use uuid::Uuid;

/// `text` as a JSON string, as `serde_json` writes it. Ids, names, kinds and most strings of
/// mods' JSON need no escape: those are copied as they stand, the rest go through `serde_json`.
#[inline]
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    // A branch-free fold rather than `any`, so the scan vectorises.
    let needs_escape = text.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if needs_escape {
        serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// `id` as a JSON string, hyphenated and lower case, as `Uuid`'s `Serialize` writes it.
pub fn write_uuid(out: &mut Vec<u8>, id: &Uuid) {
    let mut buffer = Uuid::encode_buffer();
    out.push(b'"');
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buffer).as_bytes());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in [
            "",
            "m1",
            "player.tick",
            "with \"quotes\" and \\ backslashes",
            "tab\tnew line\ncarriage\rbell\u{7}nul\u{0}",
            "unicode: café 😀 \u{2028} \u{7f}",
            "</script>",
        ] {
            let mut out = Vec::new();
            write_string(&mut out, text);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(text).unwrap()
            );
        }
    }

    #[test]
    fn uuids_are_written_as_their_serialize_writes_them() {
        let id = Uuid::from_u128(0xAAAA_BBBB_0000_4000_8000_0000_0000_00FF);
        let mut out = Vec::new();
        write_uuid(&mut out, &id);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&id).unwrap()
        );
    }
}
