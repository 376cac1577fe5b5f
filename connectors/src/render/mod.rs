//! Engine-neutral text for values that arrive as numbers or bytes: calendar dates and times,
//! float digits, well-known-binary geometries, and the fixed-width reads of wire values. The
//! engines render through these functions, so a date, a float or a point reads the same
//! whichever database it came from (docs/type-mapping.md). Nothing here knows an engine.

pub(crate) mod calendar;
pub(crate) mod number;
pub(crate) mod wire;
pub(crate) mod wkb;
