//! Containers in PostgreSQL's binary format: arrays, composites, anonymous records and hstore
//! become JSON text, ranges their range syntax; the values inside follow the same cell rules as
//! top-level ones (`value::to_cell`).

use super::value::{to_cell, PgType};
use crate::cell::Cell;
use crate::format::{write_json_str, write_json_value};
use crate::render::number::push_number;
use crate::render::wire::{fixed, utf8};

/// Reads 4-byte-length-prefixed values (-1 is NULL) from a binary container.
struct Items<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Items<'a> {
    fn i32(&mut self) -> Result<i32, String> {
        let v = i32::from_be_bytes(fixed(
            self.b.get(self.pos..self.pos + 4).ok_or("container value is cut short")?,
        )?);
        self.pos += 4;
        Ok(v)
    }

    fn value(&mut self) -> Result<Option<&'a [u8]>, String> {
        let len = self.i32()?;
        if len < 0 {
            return Ok(None);
        }
        let end = self.pos + len as usize;
        let v = self.b.get(self.pos..end).ok_or("container value is cut short")?;
        self.pos = end;
        Ok(Some(v))
    }

    fn done(&self) -> Result<(), String> {
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err("trailing bytes in container value".into())
        }
    }
}

/// Containers nest (arrays of composites of arrays...); deeper input is refused.
const MAX_NESTING: usize = 32;

/// Writes a value as JSON inside an array, composite or hstore: JSON documents are embedded
/// as JSON, containers recurse, everything else follows the top-level cell rules.
pub(super) fn write_nested(ty: &PgType, b: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    if depth > MAX_NESTING {
        return Err("value nested too deeply".into());
    }
    match ty {
        PgType::Json => out.extend_from_slice(utf8(b)?.as_bytes()),
        PgType::Jsonb => match b.split_first() {
            Some((1, rest)) => out.extend_from_slice(utf8(rest)?.as_bytes()),
            _ => return Err("unknown jsonb version".into()),
        },
        PgType::Array(element) => write_array(element, b, out, depth)?,
        PgType::Composite(fields) => {
            let mut items = Items { b, pos: 0 };
            let n = items.i32()?;
            if usize::try_from(n).ok() != Some(fields.len()) {
                return Err(format!("composite has {n} fields, expected {}", fields.len()));
            }
            out.push(b'{');
            for (i, (name, field)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_str(name, out);
                out.push(b':');
                items.i32()?;
                write_optional(field, items.value()?, out, depth)?;
            }
            out.push(b'}');
            items.done()?;
        }
        PgType::Record => {
            let mut items = Items { b, pos: 0 };
            let n = items.i32()?;
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                let oid = items.i32()? as u32;
                let field = PgType::from_oid(oid, 2).ok_or(format!("record field of type OID {oid}"))?;
                write_optional(&field, items.value()?, out, depth)?;
            }
            out.push(b']');
            items.done()?;
        }
        PgType::Hstore => {
            let mut items = Items { b, pos: 0 };
            let n = items.i32()?;
            out.push(b'{');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                let key = items.value()?.ok_or("hstore key is NULL")?;
                write_json_str(utf8(key)?, out);
                out.push(b':');
                write_optional(&PgType::Text, items.value()?, out, depth)?;
            }
            out.push(b'}');
            items.done()?;
        }
        _ => write_json_value(&to_cell(ty, b)?, out),
    }
    Ok(())
}

fn write_optional(ty: &PgType, value: Option<&[u8]>, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match value {
        Some(b) => write_nested(ty, b, out, depth + 1),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// A binary array (dimensions, lower bounds, elements in row-major order) as nested JSON
/// arrays; lower bounds are dropped, as JSON arrays start at 0.
fn write_array(element: &PgType, b: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    let mut items = Items { b, pos: 0 };
    let ndim = items.i32()?;
    items.i32()?; // has-nulls flag: the -1 lengths say the same
    items.i32()?; // element OID: the column type already names it
    let ndim =
        usize::try_from(ndim).ok().filter(|&n| n <= 6).ok_or(format!("array with {ndim} dimensions"))?;
    let mut dims = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        let len = usize::try_from(items.i32()?).map_err(|_| "negative array dimension")?;
        items.i32()?;
        dims.push(len);
    }
    if dims.is_empty() {
        out.extend_from_slice(b"[]");
        return items.done();
    }
    let total = dims.iter().try_fold(1usize, |acc, d| acc.checked_mul(*d)).ok_or("array too large")?;
    // Every element takes at least its 4-byte length.
    if total > (b.len() - items.pos) / 4 {
        return Err("array claims more elements than it holds".into());
    }
    write_dimension(element, &dims, &mut items, out, depth)?;
    items.done()
}

fn write_dimension(
    element: &PgType,
    dims: &[usize],
    items: &mut Items<'_>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), String> {
    out.push(b'[');
    for i in 0..dims[0] {
        if i > 0 {
            out.push(b',');
        }
        if dims.len() > 1 {
            write_dimension(element, &dims[1..], items, out, depth)?;
        } else {
            write_optional(element, items.value()?, out, depth)?;
        }
    }
    out.push(b']');
    Ok(())
}

/// A range in PostgreSQL's text form (`[1,10)`, `empty`), its bounds written as our cells are.
pub(super) fn range_text(element: &PgType, b: &[u8]) -> Result<String, String> {
    const EMPTY: u8 = 0x01;
    const LB_INC: u8 = 0x02;
    const UB_INC: u8 = 0x04;
    const LB_INF: u8 = 0x08;
    const UB_INF: u8 = 0x10;
    let (&flags, rest) = b.split_first().ok_or("empty range value")?;
    if flags & EMPTY != 0 {
        return Ok("empty".into());
    }
    let mut items = Items { b: rest, pos: 0 };
    let mut out = String::from(if flags & LB_INC != 0 { "[" } else { "(" });
    if flags & LB_INF == 0 {
        push_bound(&mut out, element, items.value()?.ok_or("NULL range bound")?)?;
    }
    out.push(',');
    if flags & UB_INF == 0 {
        push_bound(&mut out, element, items.value()?.ok_or("NULL range bound")?)?;
    }
    out.push(if flags & UB_INC != 0 { ']' } else { ')' });
    items.done()?;
    Ok(out)
}

fn push_bound(out: &mut String, element: &PgType, b: &[u8]) -> Result<(), String> {
    let text = match to_cell(element, b)? {
        Cell::Int(v) => v.to_string(),
        Cell::UInt(v) => v.to_string(),
        Cell::Float(v) => {
            let mut s = String::new();
            push_number(&mut s, v);
            s
        }
        Cell::Decimal(s) | Cell::Text(s) => s.into_owned(),
        Cell::Bool(v) => v.to_string(),
        Cell::Null => String::new(),
        Cell::Bytes(_) => return Err("binary range bounds are not supported".into()),
    };
    let needs_quotes = text.is_empty()
        || text.chars().any(|c| matches!(c, '"' | '\\' | '(' | ')' | '[' | ']' | ',') || c.is_whitespace());
    if needs_quotes {
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push(c);
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(&text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::value::tests::json;

    fn array(elem_oid: u32, dims: &[(i32, i32)], items: &[Option<Vec<u8>>]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend((dims.len() as i32).to_be_bytes());
        b.extend(i32::from(items.iter().any(Option::is_none)).to_be_bytes());
        b.extend(elem_oid.to_be_bytes());
        for (len, lower) in dims {
            b.extend(len.to_be_bytes());
            b.extend(lower.to_be_bytes());
        }
        for item in items {
            match item {
                Some(v) => {
                    b.extend((v.len() as i32).to_be_bytes());
                    b.extend(v);
                }
                None => b.extend((-1i32).to_be_bytes()),
            }
        }
        b
    }

    #[test]
    fn arrays_become_json_text() {
        let int4 = |v: i32| Some(v.to_be_bytes().to_vec());
        let ty = PgType::Array(std::boxed::Box::new(PgType::Int4));
        let two_by_two = array(23, &[(2, 1), (2, 1)], &[int4(1), int4(2), int4(3), None]);
        assert_eq!(json(&ty, &two_by_two), r#""[[1,2],[3,null]]""#);
        assert_eq!(json(&ty, &array(23, &[], &[])), r#""[]""#);
        let texts = PgType::Array(std::boxed::Box::new(PgType::Text));
        assert_eq!(
            json(&texts, &array(25, &[(2, 1)], &[Some(b"a\"b".to_vec()), Some(b"".to_vec())])),
            r#""[\"a\\\"b\",\"\"]""#
        );
        let jsonb = PgType::Array(std::boxed::Box::new(PgType::Jsonb));
        assert_eq!(
            json(&jsonb, &array(3802, &[(1, 1)], &[Some(b"\x01{\"k\": [1]}".to_vec())])),
            r#""[{\"k\": [1]}]""#
        );
        assert!(to_cell(&ty, &array(23, &[(3, 1)], &[int4(1)])).is_err());
    }

    #[test]
    fn ranges_composites_and_records() {
        let ty = PgType::Range(std::boxed::Box::new(PgType::Int4));
        let mut r = vec![0x02];
        for v in [1i32, 10] {
            r.extend(4i32.to_be_bytes());
            r.extend(v.to_be_bytes());
        }
        assert_eq!(json(&ty, &r), "\"[1,10)\"");
        assert_eq!(json(&ty, &[0x01]), "\"empty\"");
        let mut unbounded = vec![0x10 | 0x02];
        unbounded.extend(4i32.to_be_bytes());
        unbounded.extend(5i32.to_be_bytes());
        assert_eq!(json(&ty, &unbounded), "\"[5,)\"");

        let composite = PgType::Composite(vec![("id".into(), PgType::Int4), ("name".into(), PgType::Text)]);
        let mut c = 2i32.to_be_bytes().to_vec();
        c.extend(23u32.to_be_bytes());
        c.extend(4i32.to_be_bytes());
        c.extend(7i32.to_be_bytes());
        c.extend(25u32.to_be_bytes());
        c.extend((-1i32).to_be_bytes());
        assert_eq!(json(&composite, &c), r#""{\"id\":7,\"name\":null}""#);
        assert_eq!(json(&PgType::Record, &c), r#""[7,null]""#);
    }
}
