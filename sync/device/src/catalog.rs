//! The service catalog a device uses: the one built into this release (the files under
//! `catalog/` at the repository root, embedded at compile time), or a folder of catalog
//! files named by the app's configuration. Either is fully checked before use.

use std::path::Path;

use doorstep_core::catalog::{Catalog, CatalogError, CatalogIndex};

use crate::error::DeviceError;

/// The files of the built-in catalog, by name.
const BUILTIN: &[(&str, &str)] = &[
    ("index.toml", include_str!("../../../catalog/index.toml")),
    (
        "pension_certification.toml",
        include_str!("../../../catalog/pension_certification.toml"),
    ),
    (
        "medical_insurance.toml",
        include_str!("../../../catalog/medical_insurance.toml"),
    ),
    (
        "remote_medical_registration.toml",
        include_str!("../../../catalog/remote_medical_registration.toml"),
    ),
    (
        "senior_allowance.toml",
        include_str!("../../../catalog/senior_allowance.toml"),
    ),
    (
        "disability_subsidies.toml",
        include_str!("../../../catalog/disability_subsidies.toml"),
    ),
    (
        "minimum_living_allowance.toml",
        include_str!("../../../catalog/minimum_living_allowance.toml"),
    ),
];

/// The catalog built into this release.
pub fn builtin() -> Result<Catalog, CatalogError> {
    let file = |name: &str| -> Result<&'static str, CatalogError> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
            .ok_or_else(|| CatalogError {
                file: name.to_owned(),
                line: 0,
                message: "listed in index.toml but not built into this release".into(),
            })
    };
    let index = CatalogIndex::parse(file(CatalogIndex::FILE)?)?;
    let files = index
        .services
        .iter()
        .map(|name| Ok((name.as_str(), file(name)?)))
        .collect::<Result<Vec<_>, CatalogError>>()?;
    Catalog::parse(&index.version, &files)
}

/// A catalog from a folder holding `index.toml` and the service files it lists.
pub fn load_dir(dir: &Path) -> Result<Catalog, DeviceError> {
    let read = |name: &str| -> Result<String, DeviceError> {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| DeviceError::CatalogFile { path, source })
    };
    let index = CatalogIndex::parse(&read(CatalogIndex::FILE)?)?;
    let texts = index
        .services
        .iter()
        .map(|name| Ok((name.clone(), read(name)?)))
        .collect::<Result<Vec<_>, DeviceError>>()?;
    let files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    Ok(Catalog::parse(&index.version, &files)?)
}

#[cfg(test)]
mod tests {
    use doorstep_core::ErrorCode;
    use doorstep_core::catalog::FieldKind;

    use super::*;

    #[test]
    fn the_builtin_catalog_has_the_six_services_in_both_languages() {
        let catalog = builtin().expect("the built-in catalog is valid");
        let codes: Vec<&str> = catalog.services.keys().map(String::as_str).collect();
        assert_eq!(
            codes,
            [
                "disability_subsidies",
                "medical_insurance",
                "minimum_living_allowance",
                "pension_certification",
                "remote_medical_registration",
                "senior_allowance"
            ]
        );
        for s in catalog.services.values() {
            assert!(!s.name.zh_cn.is_empty() && !s.name.en.is_empty());
            assert!(s.steps.len() >= 3, "{}: guided steps", s.code.get_ref());
            assert!(s.fields.iter().any(|f| f.required), "{}", s.code.get_ref());
            assert!(!s.eligibility.is_empty(), "{}", s.code.get_ref());
            for f in &s.fields {
                if f.kind == FieldKind::Choice {
                    assert!(f.options.len() >= 2);
                }
            }
        }
        let allowance = catalog.service("senior_allowance").expect("service");
        assert!(!allowance.eligibility((1950, 1, 1), (2026, 11, 28)).eligible);
        assert!(allowance.eligibility((1940, 1, 1), (2026, 11, 28)).eligible);
    }

    #[test]
    fn a_folder_catalog_with_a_malformed_file_names_file_line_and_field() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in BUILTIN {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        assert_eq!(
            load_dir(dir.path()).expect("valid copy"),
            builtin().expect("builtin")
        );

        let name = "senior_allowance.toml";
        let text = BUILTIN.iter().find(|(n, _)| *n == name).expect("file").1;
        let broken = text.replacen("type = \"bool\"", "type = \"boolean\"", 1);
        let line = broken
            .lines()
            .position(|l| l.contains("\"boolean\""))
            .expect("line")
            + 1;
        std::fs::write(dir.path().join(name), broken).expect("write");
        let err = load_dir(dir.path()).expect_err("malformed");
        let DeviceError::Catalog(e) = &err else {
            panic!("expected a catalog error, got {err:?}");
        };
        assert_eq!(e.file, name);
        assert_eq!(e.line, line);
        assert!(e.message.starts_with("fields[2].type: "), "{e}");
        assert!(e.message.contains("boolean"), "{e}");
        assert_eq!(err.code(), ErrorCode::CatalogInvalid);

        std::fs::remove_file(dir.path().join(name)).expect("remove");
        assert_eq!(
            load_dir(dir.path()).expect_err("missing").code(),
            ErrorCode::CatalogInvalid
        );
    }
}
