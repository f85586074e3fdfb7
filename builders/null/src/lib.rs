//! # kiln-builder-null: builders that create no machine
//!
//! - [`null::NullBuilder`] (`source "null"`) provisions an existing host over SSH, like Packer's
//!   null builder; its artifact is a placeholder with id `Null`.
//! - [`file::FileBuilder`] (`source "file"`) writes `content`, or copies `source`, to `target`.

pub mod file;
pub mod null;

use kiln_core::Registry;

/// Registers `null` and `file`.
pub fn register(r: &mut Registry) {
    r.builder("null", || Box::new(null::NullBuilder::default()));
    r.builder("file", || Box::new(file::FileBuilder::default()));
}
