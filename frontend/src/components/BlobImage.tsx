import { useEffect, useState } from "react";

import type { Api } from "../api";

/**
 * An image kept as a blob on the device (a signature, a photo). While it loads it keeps
 * its place (`blob-loading`); one that cannot be read says so in words (`blob-missing`),
 * never a broken-image box.
 */
export function BlobImage({ api, sha256, alt, mime = "image/png" }: { api: Api; sha256: string; alt: string; mime?: string }) {
  const [shown, setShown] = useState<{ url: string } | "loading" | "missing">("loading");
  useEffect(() => {
    let made: string | null = null;
    let current = true;
    setShown("loading");
    api.blob(sha256).then(
      (bytes) => {
        if (!current) return;
        made = URL.createObjectURL(new Blob([bytes], { type: mime }));
        setShown({ url: made });
      },
      () => current && setShown("missing"),
    );
    return () => {
      current = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, sha256, mime]);
  if (shown === "loading") return <span className="blob-loading" aria-busy="true" />;
  if (shown === "missing") return <span className="blob-missing">{alt}</span>;
  return <img className="blob-image" src={shown.url} alt={alt} onError={() => setShown("missing")} />;
}
