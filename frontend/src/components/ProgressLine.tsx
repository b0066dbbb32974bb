import type { TaskProgress } from "../api";
import { percent } from "../logic";

/** How far a long export or import has got: a bar and its rows. */
export function ProgressLine({ progress, label }: { progress: TaskProgress | null; label: string }) {
  if (!progress) return null;
  const value = percent(progress.done, progress.total);
  return (
    <div className="task-progress">
      <progress max={100} value={value} aria-label={label} />
      <span>
        {progress.done}/{progress.total}
      </span>
    </div>
  );
}
