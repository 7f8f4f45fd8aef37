//! The lite transcript: WebVTT cues rewritten compactly, one per line:
//! `<gap since the previous cue ended, cs> <duration, cs> <text>`.
//!
//! WebVTT spends ~30 bytes of timestamps per cue, which compress poorly; here a cue costs a few
//! digits. The core parses it back into cues for the app (`Satchel::lite_lecture`), so apps never
//! see the format. Full and text renditions keep the original WebVTT.

use anyhow::{Result, bail};

/// Converts WebVTT text to compact cues.
pub fn from_vtt(vtt: &str) -> Result<String> {
    let mut out = String::new();
    let mut previous_end = 0u64;
    let mut lines = vtt.lines().peekable();
    if !lines.next().is_some_and(|l| l.trim_start_matches('\u{feff}').starts_with("WEBVTT")) {
        bail!("not a WebVTT file");
    }
    while let Some(line) = lines.next() {
        let Some((start, end)) = line.split_once("-->") else { continue };
        let start = parse_time(start.trim())?;
        let end = parse_time(end.split_whitespace().next().unwrap_or(""))?;
        if end < start || start < previous_end.saturating_sub(10_000_000) {
            bail!("cue timings go backwards at {line:?}");
        }
        let mut text = Vec::new();
        while let Some(next) = lines.peek() {
            if next.trim().is_empty() {
                break;
            }
            text.push(next.trim().to_owned());
            lines.next();
        }
        let gap = start.saturating_sub(previous_end) / 10;
        out.push_str(&format!("{gap} {} {}\n", (end - start) / 10, text.join(" ")));
        previous_end = end;
    }
    if out.is_empty() {
        bail!("the WebVTT file has no cues");
    }
    Ok(out)
}

/// `hh:mm:ss.ttt` or `mm:ss.ttt` in milliseconds.
fn parse_time(text: &str) -> Result<u64> {
    let (clock, millis) = text.split_once('.').unwrap_or((text, "0"));
    let mut seconds = 0u64;
    for part in clock.split(':') {
        seconds = seconds * 60 + part.parse::<u64>().map_err(|_| anyhow::anyhow!("bad cue time {text:?}"))?;
    }
    let millis: u64 =
        format!("{millis:0<3}")[..3].parse().map_err(|_| anyhow::anyhow!("bad cue time {text:?}"))?;
    Ok(seconds * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::from_vtt;

    #[test]
    fn cues_keep_their_timing_in_centiseconds() {
        let vtt = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:03.530\nWelcome.\n\n2\n00:00:04.000 --> 00:01:02.5\nSecond line\ncontinues.\n";
        assert_eq!(from_vtt(vtt).unwrap(), "0 353 Welcome.\n47 5850 Second line continues.\n");
        assert!(from_vtt("not vtt").is_err());
        assert!(from_vtt("WEBVTT\n\n").is_err());
    }
}
