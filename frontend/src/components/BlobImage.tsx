import { useEffect, useState } from "react";

import type { Api } from "../api";

/** An image kept as a blob on the device (a signature, a photo). */
export function BlobImage({ api, sha256, alt, mime = "image/png" }: { api: Api; sha256: string; alt: string; mime?: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    api.blob(sha256).then(
      (bytes) => {
        made = URL.createObjectURL(new Blob([bytes], { type: mime }));
        setUrl(made);
      },
      () => setUrl(null),
    );
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, sha256, mime]);
  return url ? <img className="blob-image" src={url} alt={alt} /> : <span className="blob-missing">{alt}</span>;
}
