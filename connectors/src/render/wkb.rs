//! Well-known binary (WKB, and PostGIS's extended EWKB) → well-known text, the form
//! `ST_AsText` gives and a person can read in a table.

use super::number::push_number;
use super::wire::fixed;

/// Well-known binary → well-known text, for MySQL geometries and PostGIS EWKB. Z and M
/// coordinates (ISO codes 1000/2000/3000 or EWKB flags) are kept; an EWKB SRID is dropped, as
/// `ST_AsText` does.
pub(crate) fn wkb_to_wkt(wkb: &[u8]) -> Result<String, String> {
    let mut reader = WkbReader { bytes: wkb, pos: 0 };
    let mut out = String::with_capacity(wkb.len());
    reader.geometry(&mut out, 0, true)?;
    if reader.pos != wkb.len() {
        return Err(format!("{} trailing bytes after the geometry", wkb.len() - reader.pos));
    }
    Ok(out)
}

struct WkbReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl WkbReader<'_> {
    /// Nesting allowed in geometry collections; deeper input is refused rather than recursed.
    const MAX_DEPTH: usize = 32;

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.pos + N;
        let slice = self.bytes.get(self.pos..end).ok_or("geometry value is cut short")?;
        self.pos = end;
        fixed(slice)
    }

    fn u32(&mut self, little: bool) -> Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }

    fn f64(&mut self, little: bool) -> Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) })
    }

    fn count(&mut self, little: bool, item_bytes: usize) -> Result<usize, String> {
        let n = self.u32(little)? as usize;
        // A count the remaining bytes cannot hold is corrupt; checking it first also bounds
        // the work and memory a hostile value can cause.
        if n.saturating_mul(item_bytes) > self.bytes.len() - self.pos {
            return Err(format!("geometry claims {n} items but is too short"));
        }
        Ok(n)
    }

    fn geometry(&mut self, out: &mut String, depth: usize, tagged: bool) -> Result<(), String> {
        if depth > Self::MAX_DEPTH {
            return Err("geometry nested too deeply".into());
        }
        let little = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            other => return Err(format!("bad WKB byte order {other}")),
        };
        let code = self.u32(little)?;
        let (mut has_z, mut has_m) = (code & 0x8000_0000 != 0, code & 0x4000_0000 != 0);
        if code & 0x2000_0000 != 0 {
            self.take::<4>()?;
        }
        let iso = code & 0x0fff_ffff;
        let base = iso % 1000;
        match iso / 1000 {
            0 => {}
            1 => has_z = true,
            2 => has_m = true,
            3 => (has_z, has_m) = (true, true),
            _ => return Err(format!("unknown WKB geometry type {code}")),
        }
        let dims = 2 + usize::from(has_z) + usize::from(has_m);
        let name = match base {
            1 => "POINT",
            2 => "LINESTRING",
            3 => "POLYGON",
            4 => "MULTIPOINT",
            5 => "MULTILINESTRING",
            6 => "MULTIPOLYGON",
            7 => "GEOMETRYCOLLECTION",
            _ => return Err(format!("unknown WKB geometry type {code}")),
        };
        if tagged {
            out.push_str(name);
            match (has_z, has_m) {
                (true, true) => out.push_str(" ZM "),
                (true, false) => out.push_str(" Z "),
                (false, true) => out.push_str(" M "),
                (false, false) => {}
            }
        }
        let point_bytes = dims * 8;
        match base {
            1 => {
                let coords = (0..dims).map(|_| self.f64(little)).collect::<Result<Vec<_>, _>>()?;
                if coords.iter().all(|c| c.is_nan()) {
                    out.push_str(if tagged { " EMPTY" } else { "EMPTY" });
                    return Ok(());
                }
                out.push('(');
                push_coords(out, &coords);
                out.push(')');
            }
            2 => {
                let n = self.count(little, point_bytes)?;
                self.points(out, little, dims, n)?;
            }
            3 => {
                let rings = self.count(little, 4)?;
                self.list(out, rings, |r, out| {
                    let n = r.count(little, point_bytes)?;
                    r.points(out, little, dims, n)
                })?;
            }
            _ => {
                let parts = self.count(little, 9)?;
                // Members of MULTI* carry their own header; only a collection names them.
                let tag_members = base == 7;
                self.list(out, parts, |r, out| r.geometry(out, depth + 1, tag_members))?;
            }
        }
        Ok(())
    }

    fn points(&mut self, out: &mut String, little: bool, dims: usize, n: usize) -> Result<(), String> {
        let mut coords = vec![0.0; dims];
        self.list(out, n, |r, out| {
            for c in coords.iter_mut() {
                *c = r.f64(little)?;
            }
            push_coords(out, &coords);
            Ok(())
        })
    }

    fn list(
        &mut self,
        out: &mut String,
        n: usize,
        mut item: impl FnMut(&mut Self, &mut String) -> Result<(), String>,
    ) -> Result<(), String> {
        if n == 0 {
            out.push_str(" EMPTY");
            return Ok(());
        }
        out.push('(');
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            item(self, out)?;
        }
        out.push(')');
        Ok(())
    }
}

fn push_coords(out: &mut String, coords: &[f64]) {
    for (i, c) in coords.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_number(out, *c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point_wkb(x: f64, y: f64) -> Vec<u8> {
        let mut wkb = vec![1, 1, 0, 0, 0];
        wkb.extend_from_slice(&x.to_le_bytes());
        wkb.extend_from_slice(&y.to_le_bytes());
        wkb
    }

    #[test]
    fn geometries_become_wkt() {
        assert_eq!(wkb_to_wkt(&point_wkb(1.0, -2.5)).unwrap(), "POINT(1 -2.5)");

        let mut line = vec![0, 0, 0, 0, 2, 0, 0, 0, 2];
        for v in [0.0f64, 0.0, 1.0, 1.0] {
            line.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(wkb_to_wkt(&line).unwrap(), "LINESTRING(0 0,1 1)");

        let mut polygon = vec![1, 3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0];
        for v in [0.0f64, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0] {
            polygon.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(wkb_to_wkt(&polygon).unwrap(), "POLYGON((0 0,1 0,1 1,0 0))");

        let mut multi = vec![1, 4, 0, 0, 0, 2, 0, 0, 0];
        multi.extend(point_wkb(1.0, 2.0));
        multi.extend(point_wkb(3.0, 4.0));
        assert_eq!(wkb_to_wkt(&multi).unwrap(), "MULTIPOINT((1 2),(3 4))");

        let mut collection = vec![1, 7, 0, 0, 0, 2, 0, 0, 0];
        collection.extend(point_wkb(1.0, 2.0));
        collection.extend(&line);
        assert_eq!(wkb_to_wkt(&collection).unwrap(), "GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))");

        assert_eq!(wkb_to_wkt(&[1, 7, 0, 0, 0, 0, 0, 0, 0]).unwrap(), "GEOMETRYCOLLECTION EMPTY");
        // PostGIS EWKB: Z flag and an SRID.
        let mut ewkb = vec![1, 1, 0, 0, 0xa0, 0xe6, 0x10, 0, 0];
        for v in [1.0f64, 2.0, 3.0] {
            ewkb.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(wkb_to_wkt(&ewkb).unwrap(), "POINT Z (1 2 3)");
    }

    #[test]
    fn corrupt_geometries_are_refused() {
        assert!(wkb_to_wkt(&[1, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(wkb_to_wkt(&[1, 99, 0, 0, 0]).is_err());
        assert!(wkb_to_wkt(&point_wkb(1.0, 2.0)[..12]).is_err());
        let mut trailing = point_wkb(1.0, 2.0);
        trailing.push(0);
        assert!(wkb_to_wkt(&trailing).is_err());
    }
}
