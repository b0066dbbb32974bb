//! Read-aloud for resident mode: the `tts` crate over speech-dispatcher (espeak-ng's
//! Mandarin voice on Debian). The speech engine lives on a thread of its own (its handle
//! is not safe to share), started on the first request. Resident mode asks first whether
//! a voice for its language is installed ([`Speaker::available`]) and offers read-aloud
//! only then; a request that fails anyway answers `tts_unavailable` or `tts_failed`,
//! which the window says in words.
//!
//! `DOORSTEP_TTS=off` turns speech off (tests without a sound device use it; see
//! [`doorstep_device::settings`]).

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use doorstep_device::ErrorCode;
use tts::{Backends, Tts};

/// How long a request may wait for the engine (it starts speech-dispatcher on first use).
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// What the window asks of the engine.
enum Ask {
    Speak {
        text: String,
        lang: String,
    },
    Stop,
    Speaking,
    /// Whether a voice for the language is installed (starts the engine).
    Available {
        lang: String,
    },
}

struct Request {
    ask: Ask,
    reply: Sender<Result<bool, ErrorCode>>,
}

/// A slow reading pace, for engines that cannot say whether they are still speaking.
const ESTIMATE_PER_CHAR: Duration = Duration::from_millis(320);

/// The read-aloud service of the app.
pub struct Speaker {
    queue: Mutex<Option<Sender<Request>>>,
    off: bool,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker").finish_non_exhaustive()
    }
}

impl Speaker {
    /// The read-aloud service; `off`: every request says it is unavailable.
    pub fn new(off: bool) -> Speaker {
        Speaker {
            queue: Mutex::new(None),
            off,
        }
    }

    /// Starts reading `text` aloud (stopping whatever was being read) in `lang`
    /// (`zh-CN` or `en`). Returns once speech has been handed to the engine.
    pub fn speak(&self, text: &str, lang: &str) -> Result<(), ErrorCode> {
        if self.off {
            return Err(ErrorCode::TtsUnavailable);
        }
        self.ask(Ask::Speak {
            text: text.to_owned(),
            lang: lang.to_owned(),
        })
        .map(|_| ())
    }

    /// Whether `lang` can be read aloud here: speech is on, the engine starts and has a
    /// voice for the language. Resident mode offers read-aloud only then.
    pub fn available(&self, lang: &str) -> bool {
        !self.off
            && self
                .ask(Ask::Available {
                    lang: lang.to_owned(),
                })
                .unwrap_or(false)
    }

    /// Stops reading aloud (nothing happens when nothing is being read).
    pub fn stop(&self) -> Result<(), ErrorCode> {
        if !self.started() {
            return Ok(());
        }
        self.ask(Ask::Stop).map(|_| ())
    }

    /// Whether something is still being read aloud.
    pub fn speaking(&self) -> Result<bool, ErrorCode> {
        if !self.started() {
            return Ok(false);
        }
        self.ask(Ask::Speaking)
    }

    fn started(&self) -> bool {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    fn ask(&self, ask: Ask) -> Result<bool, ErrorCode> {
        let (reply, answer) = mpsc::channel();
        let request = Request { ask, reply };
        {
            let mut queue = self
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let sender = match queue.as_ref() {
                Some(sender) => sender.clone(),
                None => {
                    let (sender, requests) = mpsc::channel();
                    std::thread::Builder::new()
                        .name("read-aloud".into())
                        .spawn(move || serve(&requests))
                        .map_err(|_| ErrorCode::TtsUnavailable)?;
                    *queue = Some(sender.clone());
                    sender
                }
            };
            if sender.send(request).is_err() {
                // The engine's thread ended; the next request starts a new one.
                *queue = None;
                return Err(ErrorCode::TtsFailed);
            }
        }
        answer
            .recv_timeout(ANSWER_WITHIN)
            .unwrap_or(Err(ErrorCode::TtsFailed))
    }
}

fn serve(requests: &Receiver<Request>) {
    let mut engine: Option<Tts> = None;
    // When the engine cannot tell, when the current reading is expected to end.
    let mut estimate: Option<Instant> = None;
    for request in requests {
        let outcome = match request.ask {
            Ask::Speak { text, lang } => {
                let outcome = speak_with(&mut engine, &text, &lang);
                let chars = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
                estimate = outcome
                    .is_ok()
                    .then(|| Instant::now() + ESTIMATE_PER_CHAR.saturating_mul(chars));
                outcome.map(|()| true)
            }
            Ask::Stop => {
                estimate = None;
                match engine.as_mut() {
                    Some(tts) => tts.stop().map(|_| false).map_err(|_| ErrorCode::TtsFailed),
                    None => Ok(false),
                }
            }
            Ask::Available { lang } => Ok(ready(&mut engine, &lang).is_ok()),
            Ask::Speaking => Ok(match engine.as_ref() {
                Some(tts) if tts.supported_features().is_speaking => {
                    tts.is_speaking().unwrap_or(false)
                }
                _ => estimate.is_some_and(|end| Instant::now() < end),
            }),
        };
        if let Err(code) = outcome {
            tracing::warn!(code = code.as_str(), "read-aloud failed");
        }
        let _ = request.reply.send(outcome);
    }
}

fn speak_with(engine: &mut Option<Tts>, text: &str, lang: &str) -> Result<(), ErrorCode> {
    let tts = ready(engine, lang)?;
    // A little slower than normal: the listener is old, and hears the words once.
    let rate = tts.normal_rate() - (tts.normal_rate() - tts.min_rate()) * 0.25;
    let _ = tts.set_rate(rate);
    tts.speak(text, true).map_err(|_| ErrorCode::TtsFailed)?;
    Ok(())
}

/// The engine, started if need be, with a voice for `lang` chosen.
fn ready<'a>(engine: &'a mut Option<Tts>, lang: &str) -> Result<&'a mut Tts, ErrorCode> {
    if engine.is_none() {
        let tts = Tts::new(Backends::SpeechDispatcher).map_err(|e| {
            tracing::warn!(error = %e, "speech-dispatcher is not available");
            ErrorCode::TtsUnavailable
        })?;
        *engine = Some(tts);
    }
    let Some(tts) = engine.as_mut() else {
        return Err(ErrorCode::TtsUnavailable);
    };
    let wanted: &[&str] = if lang == "en" {
        &["en"]
    } else {
        &["zh", "cmn"]
    };
    let voices = tts.voices().map_err(|_| ErrorCode::TtsUnavailable)?;
    let voice = voices
        .iter()
        .find(|v| wanted.contains(&v.language().primary_language()))
        .ok_or(ErrorCode::TtsUnavailable)?;
    tts.set_voice(voice)
        .map_err(|_| ErrorCode::TtsUnavailable)?;
    Ok(tts)
}
