//! Files the device writes for people to carry away (bundles, receipts, exported
//! rosters): written beside under a temporary name, flushed to the disk, then renamed
//! and the folder flushed, so that a file reported saved is whole and survives losing
//! power, and a pulled stick or a full disk never leaves half a file under its name.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` (its folder made if missing) whole and durably, or not at
/// all.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    let tmp = dir.join(name);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    // The rename is on the disk once the folder is: a folder opened read-only can be
    // flushed on Linux; where it cannot, the file's own data is already there.
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_whole_and_nothing_is_left_beside_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("out.bin");
        write_whole(&path, b"first").expect("write");
        write_whole(&path, b"second, longer").expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"second, longer");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["out.bin"], "no temporary file left");
    }

    #[test]
    fn an_unwritable_place_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, b"a file, not a folder").expect("write");
        write_whole(&blocker.join("out.bin"), b"x").expect_err("not a folder");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
    }
}
