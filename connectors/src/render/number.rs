//! Float digits: the shortest text that reads back as the same value, for floats written inside
//! text (geometries, ranges) and for 32-bit floats that reach JSON as 64-bit ones.

/// Shortest round-trip digits, without the `.0` ryu adds to whole numbers (`POINT(1 2)`).
pub(crate) fn push_number(out: &mut String, v: f64) {
    if v.is_finite() {
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(v);
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
    } else {
        out.push_str(if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
    }
}

/// A 32-bit float as the digits its database shows (`1.1`), not those of the nearest f64
/// (`1.100000023841858`).
pub(crate) fn f32_shortest(v: f32) -> f64 {
    if !v.is_finite() {
        return f64::from(v);
    }
    ryu::Buffer::new().format_finite(v).parse().unwrap_or(f64::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_lose_the_point_and_non_finite_values_are_named() {
        let text = |v: f64| {
            let mut out = String::new();
            push_number(&mut out, v);
            out
        };
        assert_eq!(text(1.0), "1");
        assert_eq!(text(-2.5), "-2.5");
        assert_eq!(text(1e300), "1e300");
        assert_eq!(text(f64::NAN), "NaN");
        assert_eq!(text(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn f32_keeps_its_own_digits() {
        assert_eq!(f32_shortest(1.1), 1.1);
        assert_eq!(f32_shortest(0.1), 0.1);
        assert!(f32_shortest(f32::NAN).is_nan());
    }
}
