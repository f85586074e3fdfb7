//! # kiln-sbom: what an image contains, and what is known to be wrong with it
//!
//! - [`inventory`]: a machine's installed packages from its package databases (dpkg, rpm, apk)
//!   and its OS identity, read through one remote command ([`inventory::PROBE`]).
//! - [`formats`]: that inventory as CycloneDX 1.6 and SPDX 2.3 JSON, with package URLs, and read
//!   back from either.
//! - [`version`]: dpkg's and RPM's version order.
//! - [`osv`]: an offline OSV database (a directory or osv.dev's zip), exact matching by source
//!   package and ecosystem, CVSS scoring, allow lists and the severity gate.
//!
//! The crate does no I/O beyond reading the database and allow-list files it is given; the
//! `sbom` provisioner and `kiln scan` drive it.

pub mod formats;
pub mod inventory;
pub mod osv;
pub mod version;
