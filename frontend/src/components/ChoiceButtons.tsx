import { type KeyboardEvent, useRef } from "react";

export interface Choice {
  value: string;
  label: string;
}

interface Props {
  /** The group's id; each button is `${id}-${value}`. */
  id: string;
  options: Choice[];
  /** The chosen value, "" when none. */
  value: string;
  onChoose: (value: string) => void;
  /** The id of the element that asks the question. */
  labelledBy?: string | undefined;
  describedBy?: string | undefined;
  invalid?: boolean | undefined;
}

/** The most options shown as buttons; more go in a drop-down. */
export const MAX_CHOICE_BUTTONS = 6;

/**
 * A few options as large buttons side by side (是/否, a kind of pension): one tap
 * chooses. A radio group to assistive technology; arrow keys move and choose.
 */
export function ChoiceButtons({ id, options, value, onChoose, labelledBy, describedBy, invalid }: Props) {
  const group = useRef<HTMLDivElement>(null);
  const chosenIndex = options.findIndex((o) => o.value === value);

  const keyDown = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const step = e.key === "ArrowRight" || e.key === "ArrowDown" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 0;
    if (step === 0 || options.length === 0) return;
    e.preventDefault();
    const next = (index + step + options.length) % options.length;
    const option = options[next];
    if (!option) return;
    group.current?.querySelectorAll<HTMLButtonElement>("[role=radio]")[next]?.focus();
    onChoose(option.value);
  };

  return (
    <div
      ref={group}
      role="radiogroup"
      id={id}
      className="choice-buttons"
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      aria-invalid={invalid ? true : undefined}
    >
      {options.map((o, index) => {
        const checked = o.value === value;
        // One stop for the Tab key: the chosen button, or the first when none is.
        const tabStop = chosenIndex === -1 ? index === 0 : checked;
        return (
          <button
            key={o.value}
            type="button"
            role="radio"
            id={`${id}-${o.value}`}
            data-value={o.value}
            className="choice-button"
            aria-checked={checked}
            tabIndex={tabStop ? 0 : -1}
            onClick={() => onChoose(o.value)}
            onKeyDown={(e) => keyDown(e, index)}
          >
            <span className="choice-mark" aria-hidden="true">
              {checked ? "✓" : ""}
            </span>
            {o.label}
          </button>
        );
      })}
    </div>
  );
}
