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
/// larger values go through ryu itself. Values with a few decimals are written directly
/// (`write_few_decimals`).
pub(crate) fn write_shortest(v: f64, out: &mut Vec<u8>) {
    if write_few_decimals(v, out) {
        return;
    }
    if v.abs() < ZMIJ_BELOW {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    }
}

/// Values with at most this many decimals take the short way below (its text is built for 4).
const FEW_DECIMALS: usize = 4;
const FEW_DECIMALS_UNIT: u64 = 10u64.pow(FEW_DECIMALS as u32);
const FEW_DECIMALS_SCALE: f64 = FEW_DECIMALS_UNIT as f64;
/// ... and only below this magnitude, where neighbouring doubles lie less than 2e-6 apart: far
/// closer than the 1e-4 between two such decimals, which the proof below needs.
const FEW_DECIMALS_BELOW: f64 = 1e10;

/// Prices, rates and measures mostly carry a few decimals (`448.638`); their shortest digits
/// are those decimals, found with one multiplication and one division instead of the general
/// search (float digits were 12-14% of the server's samples on 1M MariaDB and PostgreSQL rows).
/// Writes ryu's text and returns true when `v` is the double nearest to `n / 10^4` for a whole
/// `n` (the division is correctly rounded, so the comparison certifies it exactly). Why those are
/// then the shortest digits: any other decimal that reads back as `v` lies within one spacing of
/// doubles (< 2e-6 here) of `n / 10^4`; one with no more digits than ours sits on a grid of at
/// least 1e-4 and so cannot, and one on a finer grid needs more digits. Otherwise returns false
/// and writes nothing.
fn write_few_decimals(v: f64, out: &mut Vec<u8>) -> bool {
    let magnitude = v.abs();
    if magnitude.is_nan() || magnitude >= FEW_DECIMALS_BELOW {
        return false;
    }
    // Adding a half then truncating rounds (without a call into libm); the comparison decides.
    // Below 1e14, so i64 holds it (one conversion instruction each way, where u64 takes more).
    let scaled = (magnitude * FEW_DECIMALS_SCALE + 0.5) as i64;
    if scaled == 0 || scaled as f64 / FEW_DECIMALS_SCALE != magnitude {
        return false;
    }
    let scaled = scaled.unsigned_abs();
    let (mut whole, fraction) = (scaled / FEW_DECIMALS_UNIT, (scaled % FEW_DECIMALS_UNIT) as usize);
    // The text is built around the point at POINT, two digits at a time (as itoa does), and
    // copied out once: `-` and up to 10 whole digits before it, 4 decimals after. Writing the
    // whole part with itoa and the decimals in a second copy gives the same text but took 16 ns
    // a value against 11 (5M bench prices in a loop).
    const POINT: usize = 11;
    let mut text = [0u8; POINT + 1 + FEW_DECIMALS];
    let mut start = POINT;
    while whole >= 100 {
        let pair = (whole % 100) as usize * 2;
        whole /= 100;
        start -= 2;
        text[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if whole >= 10 {
        let pair = whole as usize * 2;
        start -= 2;
        text[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        text[start] = b'0' + whole as u8;
    }
    if v < 0.0 {
        start -= 1;
        text[start] = b'-';
    }
    text[POINT] = b'.';
    let (high, low) = (fraction / 100 * 2, fraction % 100 * 2);
    text[POINT + 1..POINT + 3].copy_from_slice(&DIGIT_PAIRS[high..high + 2]);
    text[POINT + 3..POINT + 5].copy_from_slice(&DIGIT_PAIRS[low..low + 2]);
    // Decimals without their trailing zeros; at least one (`2.0`).
    let decimals = FEW_DECIMALS
        - usize::from(fraction % 10 == 0)
        - usize::from(fraction % 100 == 0)
        - usize::from(fraction % 1000 == 0);
    out.extend_from_slice(&text[start..=POINT + decimals]);
    true
}

/// "00" to "99", each number's two digits at twice its value.
const DIGIT_PAIRS: &[u8; 200] = b"\
      0001020304050607080910111213141516171819\
      2021222324252627282930313233343536373839\
      4041424344454647484950515253545556575859\
      6061626364656667686970717273747576777879\
      8081828384858687888990919293949596979899";

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

    /// xorshift64*: deterministic test inputs, no extra dev-dependency.
    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

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
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
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

    /// The short way must take the values it was made for (or it saves nothing), and write
    /// ryu's text for every one of them and for their neighbours, which it must leave alone.
    #[test]
    fn few_decimals_are_written_as_ryu_writes_them() {
        let mut next = xorshift(0x2545_F491_4F6C_DD1D);
        let mut taken = 0;
        let mut check = |v: f64, expect_taken: Option<bool>| {
            let mut ours = Vec::new();
            let took = write_few_decimals(v, &mut ours);
            if let Some(expected) = expect_taken {
                assert_eq!(took, expected, "{v:e}");
            }
            if took {
                taken += 1;
                assert_eq!(std::str::from_utf8(&ours).unwrap(), ryu::Buffer::new().format_finite(v), "{v:e}");
            } else {
                assert!(ours.is_empty());
            }
        };
        for _ in 0..300_000 {
            let decimals = (next() % 5) as i32;
            let whole_digits = next() % 11;
            let n = next() % 10u64.pow(whole_digits as u32 + decimals as u32).max(1);
            let v = n as f64 / 10f64.powi(decimals);
            let inside = n != 0 && v < FEW_DECIMALS_BELOW;
            check(v, Some(inside));
            check(-v, Some(inside));
            check(v.next_up(), None);
            check(v.next_down(), None);
            check(f64::from_bits(next()), None);
        }
        for v in [1e-4, 0.1, 0.3, 1.0, 9_999_999_999.999_9, 123.45, 0.000_5, 1e9] {
            check(v, Some(true));
        }
        for v in [0.0, -0.0, 1e-5, 0.000_01, 1e10, 1e16, f64::NAN, f64::INFINITY, 0.1 + 0.2, 1.0 / 3.0] {
            check(v, Some(false));
        }
        assert!(taken > 500_000, "{taken}");
    }

    #[test]
    fn f32_keeps_its_own_digits() {
        assert_eq!(f32_shortest(1.1), 1.1);
        assert_eq!(f32_shortest(0.1), 0.1);
        assert!(f32_shortest(f32::NAN).is_nan());
    }
}
