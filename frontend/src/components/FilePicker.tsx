import { useRef } from "react";

/** The files a photo slot takes (the device checks the bytes again). */
export const PHOTO = "image/jpeg,image/png,image/webp";
/** The files a document slot takes. */
export const PHOTO_OR_PDF = `${PHOTO},application/pdf`;

/**
 * A large button that opens the file chooser (or the camera, on a tablet). The native
 * file input stays hidden: WebKit labels it in its own language ("Choose File"), not
 * the window's.
 */
export function FilePicker(props: {
  id: string;
  labelledBy: string;
  text: string;
  disabled: boolean;
  onFile: (file: File) => void;
  /** The kinds of file offered; with only photos, the chooser offers the camera. */
  accept: string;
}) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        id={props.id}
        className="file-input-hidden"
        type="file"
        accept={props.accept}
        {...(props.accept === PHOTO ? { capture: "environment" } : {})}
        tabIndex={-1}
        aria-hidden="true"
        disabled={props.disabled}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) props.onFile(file);
          e.target.value = "";
        }}
      />
      <button
        type="button"
        id={`${props.id}-button`}
        className="secondary file-button"
        aria-describedby={props.labelledBy}
        disabled={props.disabled}
        onClick={() => input.current?.click()}
      >
        {props.text}
      </button>
    </>
  );
}
