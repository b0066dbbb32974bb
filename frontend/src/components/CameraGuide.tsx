import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Frame } from "../camera/guidance";
import { HALF_BODY_LIMITS, LIMITS, judge } from "../camera/guidance";
import type { Phase, QualityRecord } from "../camera/session";
import { CaptureSession } from "../camera/session";
import { drawPixels } from "../camera/still";

/** The frames judged are at most this wide: enough for the detector, quick to read. */
const ANALYSIS_WIDTH = 480;
/** Guidance is read aloud when it changes, and no more often than this (ms). */
const SPEAK_EVERY_MS = 2500;

type Camera =
  | { kind: "starting" }
  | { kind: "live"; facing: "user" | "environment" }
  /** No camera the window can use, it was refused, or failed: the file path stays. */
  | { kind: "unavailable"; reason: "none" | "refused" | "failed"; detail: string };

/** Why `getUserMedia` failed, in the words the screen uses. */
export function cameraFailure(error: unknown): "none" | "refused" | "failed" {
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return "refused";
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "none";
  }
  return "failed";
}

/**
 * The live camera for the resident's face photo: the picture large and mirrored, what
 * to fix in large type and read aloud, the photo taken by itself once every check has
 * held for a moment (or by hand, with what failed recorded), then a blink or a nod.
 */
export function CameraGuide(props: {
  /** The face photo: taken by itself, then a blink or a nod. The ID-card photo: half
   * body with the card, checked with the half-body limits, taken by hand once the
   * volunteer sees the card clearly (no check sees the card), no liveness step. */
  mode: "face" | "id_card";
  /** The title's heading level where it sits (an h2 under resident mode's h1). */
  titleLevel?: 2 | 3;
  speak: (text: string) => void;
  onPhoto: (photo: Blob, quality: QualityRecord) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const video = useRef<HTMLVideoElement>(null);
  const [camera, setCamera] = useState<Camera>({ kind: "starting" });
  const [facing, setFacing] = useState<"user" | "environment">("user");
  const [cameras, setCameras] = useState(0);
  const [phase, setPhase] = useState<Phase>({ kind: "framing", check: null, progress: 0 });
  const [detecting, setDetecting] = useState(false);
  const idCard = props.mode === "id_card";
  const limits = idCard ? HALF_BODY_LIMITS : LIMITS;
  const session = useRef(new CaptureSession(!idCard, !idCard));
  const last = useRef<{ frame: Frame | null; spoken: string; spokenAt: number }>({
    frame: null,
    spoken: "",
    spokenAt: 0,
  });
  const { speak, onPhoto } = props;
  /** How quickly guidance comes, kept on the guidance line for support and the
   * benchmark: the backend, ms from opening to the first guidance, frames judged and
   * the mean detection time per frame. */
  const opened = useRef(performance.now());
  const timing = useRef({ frames: 0, detectMs: 0 });
  const guidance = useRef<HTMLParagraphElement>(null);

  // The camera: asked for again when the volunteer switches between front and rear.
  useEffect(() => {
    let stream: MediaStream | null = null;
    let stopped = false;
    const media = typeof navigator === "undefined" ? undefined : navigator.mediaDevices;
    if (!media?.getUserMedia) {
      setCamera({ kind: "unavailable", reason: "none", detail: "no mediaDevices" });
      return;
    }
    setCamera({ kind: "starting" });
    media
      .getUserMedia({ video: { facingMode: facing, width: { ideal: 1280 } }, audio: false })
      .then(async (s) => {
        if (stopped) {
          for (const track of s.getTracks()) track.stop();
          return;
        }
        stream = s;
        const v = video.current;
        if (v) {
          v.srcObject = s;
          await v.play().catch(() => undefined);
        }
        const devices = await media.enumerateDevices().catch(() => []);
        setCameras(devices.filter((d) => d.kind === "videoinput").length);
        setCamera({ kind: "live", facing });
      })
      .catch((e: unknown) => setCamera({ kind: "unavailable", reason: cameraFailure(e), detail: describe(e) }));
    return () => {
      stopped = true;
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
  }, [facing]);

  // The detector, and a frame judged after another while the camera is live.
  useEffect(() => {
    if (camera.kind !== "live") return;
    let running = true;
    const canvas = document.createElement("canvas");
    const say = (text: string, now: number) => {
      if (text === last.current.spoken && now - last.current.spokenAt < SPEAK_EVERY_MS * 2) return;
      if (now - last.current.spokenAt < SPEAK_EVERY_MS) return;
      last.current.spoken = text;
      last.current.spokenAt = now;
      speak(text);
    };
    const tick = async () => {
      const v = video.current;
      if (!running || !v) return;
      if (v.readyState >= 2 && v.videoWidth > 0) {
        const pixels = drawPixels(canvas, v, v.videoWidth, v.videoHeight, ANALYSIS_WIDTH);
        const started = performance.now();
        const frame = await detector.detect(pixels);
        timing.current.frames += 1;
        timing.current.detectMs += performance.now() - started;
        const judgement = judge(frame, last.current.frame ?? undefined, limits);
        last.current.frame = frame;
        const landmarks = frame.faces.length === 1 ? (frame.faces[0]?.landmarks ?? null) : null;
        let next = session.current.next(judgement, landmarks, Date.now());
        if (next.kind === "taken") next = await keep(v, next);
        if (!running) return;
        setPhase(next);
        announce(next, say);
        const line = guidance.current;
        if (line) {
          line.dataset.firstGuidanceMs ??= String(Math.round(performance.now() - opened.current));
          line.dataset.frames = String(timing.current.frames);
          line.dataset.detectMs = (timing.current.detectMs / timing.current.frames).toFixed(1);
        }
        if (next.kind === "done") return;
      }
      // Straight on to the next frame once one is judged; a while later when the
      // picture is not there yet.
      setTimeout(() => void tick(), v.readyState >= 2 ? 0 : 100);
    };
    const keep = async (v: HTMLVideoElement, taken: Phase): Promise<Phase> => {
      const photo = await grab(v);
      if (photo === null) return taken;
      kept.current = photo;
      return session.current.photoKept(Date.now());
    };
    // The detector (TensorFlow.js and its models) is loaded only when a camera opens.
    let detector: typeof import("../camera/detect");
    setDetecting(true);
    import("../camera/detect")
      .then(async (module) => {
        detector = module;
        const backend = await module.loadModels();
        if (guidance.current) guidance.current.dataset.backend = backend;
        setDetecting(false);
        await tick();
      })
      .catch((e: unknown) => {
        setDetecting(false);
        setCamera({ kind: "unavailable", reason: "failed", detail: describe(e) });
      });
    return () => {
      running = false;
    };
  }, [camera.kind, speak]);

  const kept = useRef<Blob | null>(null);
  const delivered = useRef(false);
  useEffect(() => {
    if (phase.kind !== "done" || kept.current === null || delivered.current) return;
    delivered.current = true;
    onPhoto(kept.current, phase.quality);
  }, [phase, onPhoto]);

  const announce = (p: Phase, say: (text: string, now: number) => void) => {
    const now = Date.now();
    if (p.kind === "framing" && p.check) say(t(`camera.guide.${p.check}`), now);
    if (p.kind === "framing" && !p.check && idCard) say(t("camera.idCard.ready"), now);
    if (p.kind === "liveness") say(t(`camera.liveness.${p.ask}`), now);
  };

  const byHand = async () => {
    const v = video.current;
    const frame = last.current.frame;
    if (!v || frame === null || phase.kind !== "framing") return;
    session.current.takeByHand(judge(frame, undefined, limits));
    const photo = await grab(v);
    if (photo === null) return;
    kept.current = photo;
    setPhase(session.current.photoKept(Date.now()));
  };

  // Opened, the camera comes into view whole: the picture, the guidance, the shutter.
  const card = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // On her screen (under resident mode's h1) it comes to the top: the explanation
    // above it has been read.
    card.current?.scrollIntoView?.({ block: props.titleLevel === 2 ? "start" : "nearest" });
  }, [camera.kind, props.titleLevel]);

  const mirrored = camera.kind === "live" && camera.facing === "user";
  const Title = props.titleLevel === 2 ? "h2" : "h3";
  return (
    <div ref={card} className="card camera-guide" id="camera-guide" role="dialog" aria-labelledby="camera-title">
      <Title id="camera-title">{idCard ? t("camera.idCard.title") : t("camera.title")}</Title>
      {idCard ? (
        <p className="camera-instruction" id="camera-instruction">
          {t("camera.idCard.instruction")}
        </p>
      ) : null}
      {camera.kind === "unavailable" ? (
        <p className="field-error" id="camera-unavailable" data-reason={camera.reason} data-detail={camera.detail}>
          {t(`camera.unavailable.${camera.reason}`)}
        </p>
      ) : (
        <>
          <div className="camera-view">
            <video
              ref={video}
              id="camera-video"
              className={mirrored ? "camera-video mirrored" : "camera-video"}
              playsInline
              muted
              aria-hidden="true"
            />
          </div>
          <p ref={guidance} className="camera-guidance" id="camera-guidance" aria-live="polite" data-phase={phase.kind}>
            {camera.kind === "starting" || detecting
              ? t("camera.starting")
              : phase.kind === "framing"
                ? phase.check
                  ? t(`camera.guide.${phase.check}`)
                  : idCard
                    ? t("camera.idCard.ready")
                    : t("camera.holding")
                : phase.kind === "liveness"
                  ? t(`camera.liveness.${phase.ask}`)
                  : t("camera.done")}
          </p>
        </>
      )}
      <div className="actions">
        {camera.kind === "live" && phase.kind === "framing" ? (
          <button type="button" className="primary" id="camera-shutter" onClick={() => void byHand()}>
            {t("camera.shutter")}
          </button>
        ) : null}
        {phase.kind === "liveness" ? (
          <button
            type="button"
            className="secondary"
            id="camera-skip-liveness"
            onClick={() => setPhase(session.current.skipLiveness())}
          >
            {t("camera.skipLiveness")}
          </button>
        ) : null}
        {camera.kind === "live" && cameras > 1 && phase.kind === "framing" ? (
          <button
            type="button"
            className="secondary"
            id="camera-switch"
            onClick={() => setFacing((f) => (f === "user" ? "environment" : "user"))}
          >
            {t("camera.switch")}
          </button>
        ) : null}
        <button type="button" className="secondary" id="camera-close" onClick={props.onClose}>
          {t("camera.close")}
        </button>
      </div>
    </div>
  );
}

/** What went wrong, for whoever supports the app (no personal data is in it). */
function describe(error: unknown): string {
  const text = error instanceof Error || error instanceof DOMException ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 200);
}

/** The video's current picture at its full size, as a JPEG (not mirrored). */
async function grab(v: HTMLVideoElement): Promise<Blob | null> {
  const canvas = document.createElement("canvas");
  canvas.width = v.videoWidth;
  canvas.height = v.videoHeight;
  const context = canvas.getContext("2d");
  if (!context) return null;
  context.drawImage(v, 0, 0);
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b), "image/jpeg", 0.92));
}
