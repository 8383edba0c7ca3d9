//! The report's typeface: DejaVu Sans (regular and bold) cut down to Latin-1, the rupee
//! sign and a few marks (see `fonts/README.md`), built into the binary so charts and PDFs
//! look the same everywhere and a Lambda needs no system fonts.

pub static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans-subset.ttf");
pub static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-subset.ttf");
