//! [`write_private`]: replaces a file that holds a secret (the settings
//! with the hub token, the core's address with the IPC secret) so that only
//! the user can read it and no reader ever sees half of it.

use std::io::Write as _;
use std::path::Path;

/// Writes `contents` to `path` through a temporary file of a unique name in
/// the same directory (created 0600 by `tempfile`), synced, then renamed
/// over `path`. Two writers at once each rename a whole file of their own:
/// the last one wins and nothing is torn. Creates the directory if needed.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".pushdesk-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        // tempfile already creates 0600; say so rather than rely on it.
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn the_file_is_the_users_only_even_over_a_world_readable_one() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("settings.json");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(&path, b"old").expect("old file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private(&path, b"{\"token\":\"s\"}").expect("written");
        let meta = std::fs::metadata(&path).expect("metadata");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&path).expect("read"), b"{\"token\":\"s\"}");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("settings.json")]);
    }

    #[test]
    fn concurrent_writers_never_tear_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        let texts: Vec<Vec<u8>> = (0..8u8).map(|i| vec![b'a' + i; 64 * 1024]).collect();
        std::thread::scope(|scope| {
            for text in &texts {
                let path = &path;
                scope.spawn(move || {
                    for _ in 0..20 {
                        write_private(path, text).expect("written");
                    }
                });
            }
            // Every read sees one writer's whole file.
            for _ in 0..200 {
                if let Ok(read) = std::fs::read(&path) {
                    assert!(texts.contains(&read), "torn: {} bytes", read.len());
                }
            }
        });
        assert!(texts.contains(&std::fs::read(&path).expect("read")));
    }
}
