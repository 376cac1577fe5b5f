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

/// Values below this print in plain decimal notation (`1234.5`, `0.00012`) in both ryu and
/// zmij; from 1e16 up ryu writes `1e16` where zmij writes `1e+16`.
const ZMIJ_BELOW: f64 = 1e16;

/// A finite float's shortest round-trip text exactly as `ryu::Buffer::format_finite` writes it
/// (`1.0`, `448.638`, `1e16`, `5e-324`): SPEC's JSON and CSV output pins ryu's text. zmij finds
/// the same digits in under a third of ryu's instructions (callgrind, the bench's 5M prices:
/// ~130 against ~430 per value; ryu was 28% of a 1M-row JSON result). The two write the same
/// text below 1e16 (zmij's own tests compare them; `zmij_agrees_with_ryu` below), and the rare
/// larger values go through ryu itself.
pub(crate) fn write_shortest(v: f64, out: &mut Vec<u8>) {
    if v.abs() < ZMIJ_BELOW {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
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

    /// `write_shortest` must be ryu's text, byte for byte: random bit patterns (every exponent),
    /// short decimals (prices, as the bench's data), integers, and the edges of the notations.
    #[test]
    fn zmij_agrees_with_ryu() {
        let check = |v: f64| {
            if !v.is_finite() {
                return;
            }
            let mut ours = Vec::new();
            write_shortest(v, &mut ours);
            assert_eq!(std::str::from_utf8(&ours).unwrap(), ryu::Buffer::new().format_finite(v), "{v:e}");
        };
        // xorshift64*: deterministic, no extra dev-dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        for _ in 0..300_000 {
            let bits = next();
            check(f64::from_bits(bits));
            // Exponents of the plain-decimal range, where the two could disagree on notation.
            let exponent = 1023 - 20 + (bits >> 56) % 80;
            check(f64::from_bits((bits & 0x800F_FFFF_FFFF_FFFF) | (exponent << 52)));
            let decimals = (next() % 7) as i32;
            let digits = (next() % 10_000_000_000) as f64;
            check(digits / 10f64.powi(decimals));
            check(-(digits / 10f64.powi(decimals)));
        }
        for e in -30..=30 {
            let p = 10f64.powi(e);
            for v in [p, p.next_up(), p.next_down(), 1.5 * p, 9.5 * p] {
                check(v);
                check(-v);
            }
        }
        for v in [0.0, -0.0, 1.0, f64::MAX, f64::MIN_POSITIVE, 5e-324, 9_007_199_254_740_992.0] {
            check(v);
        }
    }

    #[test]
    fn f32_keeps_its_own_digits() {
        assert_eq!(f32_shortest(1.1), 1.1);
        assert_eq!(f32_shortest(0.1), 0.1);
        assert!(f32_shortest(f32::NAN).is_nan());
    }
}
