//! `SELECT ... INTO OUTFILE/DUMPFILE` writes a file on the database server even inside a
//! read-only transaction, so read-only connections look for it in the statement first.

use crate::statement::find;

/// Whether the statement (MySQL syntax) writes a server file with `INTO OUTFILE`/`INTO
/// DUMPFILE`, which a read-only transaction does not prevent. Text inside executable comments
/// (`/*! ... */`) counts, since the server runs it. Scanned both with and without backslash
/// escapes in strings, as the server's `NO_BACKSLASH_ESCAPES` mode is unknown here.
pub(super) fn writes_a_file(sql: &str) -> bool {
    scan_into_file(sql, true) || scan_into_file(sql, false)
}

fn scan_into_file(sql: &str, backslash_escapes: bool) -> bool {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut after_into = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && backslash_escapes && c != b'`' {
                        i += 2;
                    } else if b[i] == c {
                        if b.get(i + 1) == Some(&c) {
                            i += 2;
                        } else {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                i += 1;
                after_into = false;
            }
            b'#' => i = b[i..].iter().position(|&x| x == b'\n').map_or(b.len(), |p| i + p),
            b'-' if b.get(i + 1) == Some(&b'-') && b.get(i + 2).is_none_or(|x| x.is_ascii_whitespace()) => {
                i = b[i..].iter().position(|&x| x == b'\n').map_or(b.len(), |p| i + p);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let executable = b.get(i + 2) == Some(&b'!') || b.get(i + 2..i + 4) == Some(b"M!");
                if executable {
                    i += if b[i + 2] == b'!' { 3 } else { 4 };
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                } else {
                    i = find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
                }
            }
            b'*' if b.get(i + 1) == Some(&b'/') => i += 2,
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &b[start..i];
                if after_into
                    && (word.eq_ignore_ascii_case(b"OUTFILE") || word.eq_ignore_ascii_case(b"DUMPFILE"))
                {
                    return true;
                }
                after_into = word.eq_ignore_ascii_case(b"INTO");
            }
            _ if c.is_ascii_whitespace() => i += 1,
            _ => {
                after_into = false;
                i += 1;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_writes_are_found_outside_strings_and_comments() {
        assert!(writes_a_file("SELECT * FROM t INTO OUTFILE '/tmp/x'"));
        assert!(writes_a_file("select 1 into\n dumpfile '/tmp/x'"));
        assert!(writes_a_file("SELECT 1 INTO /* c */ OUTFILE '/tmp/x'"));
        assert!(writes_a_file("SELECT 1 /*!50000 INTO OUTFILE '/tmp/x' */"));
        assert!(writes_a_file("SELECT 'a\\' INTO OUTFILE '/tmp/x'"));
        assert!(!writes_a_file("SELECT 'INTO OUTFILE' AS a"));
        assert!(!writes_a_file("SELECT 1 -- INTO OUTFILE\n"));
        assert!(!writes_a_file("SELECT 1 # INTO OUTFILE"));
        assert!(!writes_a_file("SELECT `into outfile` FROM t"));
        assert!(!writes_a_file("SELECT 1 INTO @outfile"));
    }
}
