//! Read-aloud makes real audio: one guided step of the catalog, in Mandarin, synthesized
//! by espeak-ng (the engine speech-dispatcher drives on Debian, which cannot itself write
//! files) to a WAV file, checked with sox: long enough for its words, and not silent.

use std::process::Command;

use anyhow::{Context, bail};

/// `sox <file> -n stat` figures, by name.
fn sox_stat(wav: &std::path::Path) -> anyhow::Result<Vec<(String, f64)>> {
    let out = Command::new("sox")
        .arg(wav)
        .args(["-n", "stat"])
        .output()
        .context("running sox (apt package sox)")?;
    if !out.status.success() {
        bail!("sox failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    // sox writes its statistics to standard error.
    Ok(String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_owned(), value.trim().parse().ok()?))
        })
        .collect())
}

fn figure(stats: &[(String, f64)], name: &str) -> anyhow::Result<f64> {
    stats
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .with_context(|| format!("sox printed no {name:?}"))
}

#[test]
fn a_guided_step_read_in_mandarin_is_audible_and_as_long_as_its_words() -> anyhow::Result<()> {
    let catalog = doorstep_device::catalog::builtin()?;
    let service = catalog
        .service("pension_certification")
        .context("the pension certification is in the catalog")?;
    let step = service.steps.first().context("it has guided steps")?;
    let text = format!("{}。{}", step.title.zh_cn, step.body.zh_cn);
    let chars = text.chars().filter(|c| !c.is_ascii_punctuation()).count() as f64;

    let dir = tempfile::tempdir()?;
    let wav = dir.path().join("step.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "cmn", "-s", "140", "-w"])
        .arg(&wav)
        .arg(&text)
        .status()
        .context("running espeak-ng (apt package espeak-ng)")?;
    assert!(status.success(), "espeak-ng: {status}");

    let stats = sox_stat(&wav)?;
    let seconds = figure(&stats, "Length (seconds)")?;
    let rms = figure(&stats, "RMS     amplitude")?;
    let peak = figure(&stats, "Maximum amplitude")?;
    // Mandarin is read at about 2 to 6 syllables (characters) a second.
    assert!(
        seconds > chars / 6.0 && seconds < chars / 1.5,
        "{seconds:.1} s for {chars} characters"
    );
    assert!(rms > 0.02, "not silent: RMS amplitude {rms}");
    assert!(peak > 0.1, "not silent: peak amplitude {peak}");
    eprintln!("read-aloud: {chars} characters, {seconds:.1} s, RMS {rms:.3}, peak {peak:.3}");
    Ok(())
}
