import { useEffect, useImperativeHandle, useRef, useState, type Ref } from "react";
import { useTranslation } from "react-i18next";
import SignaturePad from "signature_pad";

export interface SignatureHandle {
  /** The drawing as PNG bytes, or null when nothing was drawn. */
  png(): Promise<Uint8Array | null>;
}

/** A box the resident signs in with a finger or a pen (signature_pad). */
export function SignatureField({ id, label, error, ref }: { id: string; label: string; error?: string | undefined; ref: Ref<SignatureHandle> }) {
  const { t } = useTranslation();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const padRef = useRef<SignaturePad | null>(null);
  const [empty, setEmpty] = useState(true);
  // "Please sign" is about an empty box: once signed, it no longer shows.
  const shown = empty ? error : undefined;

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    // Sharp strokes on high-density screens: size the bitmap to the device pixels.
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d")?.scale(ratio, ratio);
    const pad = new SignaturePad(canvas, { penColor: "#000000", backgroundColor: "#ffffff", minWidth: 1, maxWidth: 3 });
    pad.addEventListener("beginStroke", () => setEmpty(false));
    pad.addEventListener("endStroke", () => setEmpty(pad.isEmpty()));
    padRef.current = pad;
    return () => pad.off();
  }, []);

  useImperativeHandle(ref, () => ({
    async png() {
      const pad = padRef.current;
      if (!pad || pad.isEmpty()) return null;
      return dataUrlBytes(pad.toDataURL("image/png"));
    },
  }));

  return (
    <div className={shown ? "field field-invalid" : "field"}>
      <span className="label" id={`${id}-label`}>
        {label}
      </span>
      <canvas
        id={id}
        ref={canvasRef}
        className="signature"
        role="img"
        aria-labelledby={`${id}-label`}
        data-empty={empty ? "true" : "false"}
      />
      <button
        id={`${id}-clear`}
        type="button"
        className="secondary"
        onClick={() => {
          padRef.current?.clear();
          setEmpty(true);
        }}
      >
        {t("authorize.clear")}
      </button>
      {shown ? (
        <p className="field-error" id={`${id}-error`}>
          {shown}
        </p>
      ) : null}
    </div>
  );
}

/** The bytes of a base64 `data:` URL (the CSP allows no fetch of data: URLs). */
export function dataUrlBytes(url: string): Uint8Array {
  const base64 = url.slice(url.indexOf(",") + 1);
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
