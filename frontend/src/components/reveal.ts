/**
 * A ref for what appears in answer to a tap (a confirmation, a result): when it comes
 * into being below the fold, the page scrolls just enough to show it, so that the tap
 * does not look as if it did nothing. Stable, so React calls it only when the element
 * appears.
 */
export function revealOnMount(el: HTMLElement | null): void {
  // jsdom (the unit tests) has no scrollIntoView.
  el?.scrollIntoView?.({ block: "nearest" });
}
