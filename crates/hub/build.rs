//! Copies the built web UI (`ui/dist`) into OUT_DIR for embedding, or, when
//! the UI has not been built (a plain `cargo build` on a fresh clone), a
//! one-page placeholder that says how to build it, so the hub still builds.

use std::path::Path;
use std::{env, fs, io};

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let manifest = env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?;
    let dist = Path::new(&manifest).join("../../ui/dist");
    let out = Path::new(&env::var("OUT_DIR").map_err(io::Error::other)?).join("ui");
    println!("cargo:rerun-if-changed={}", dist.display());
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    if dist.join("index.html").is_file() {
        copy_dir(&dist, &out)?;
    } else {
        println!(
            "cargo:warning=ui/dist is missing: embedding a placeholder page (build the UI with `npm ci && npm run build` in ui/)"
        );
        fs::create_dir_all(&out)?;
        fs::write(
            out.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>Pushdesk</title>\
             <p>The Pushdesk web UI was not built into this binary. Build it with \
             <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>, then rebuild.</p>",
        )?;
    }
    Ok(())
}
